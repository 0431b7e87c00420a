package peer

import (
	"context"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"pigeon/sdpcodec"
)

// The benchmarks measure pigeon's peer against a peer configured with pion's
// defaults, in the same run: run them with
//
//	go test -run '^$' -bench . -benchtime 50x ./peer/

// BenchmarkOfferReady: from nothing to the offer blob in hand (key,
// certificate, peer connection, gathering, encoding).
func BenchmarkOfferReady(b *testing.B) {
	ctx := context.Background()
	b.Run("pigeon", func(b *testing.B) {
		for b.Loop() {
			p, err := Offer(ctx, Options{}, sdpcodec.AppChat)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := p.Local().Encode(); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			p.Close()
			b.StartTimer()
		}
	})
	b.Run("pion-default", func(b *testing.B) {
		for b.Loop() {
			pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := pc.CreateDataChannel("data", nil); err != nil {
				b.Fatal(err)
			}
			offer, err := pc.CreateOffer(nil)
			if err != nil {
				b.Fatal(err)
			}
			gathered := webrtc.GatheringCompletePromise(pc)
			if err := pc.SetLocalDescription(offer); err != nil {
				b.Fatal(err)
			}
			<-gathered
			_ = pc.LocalDescription().SDP
			b.StopTimer()
			pc.Close()
			b.StartTimer()
		}
	})
}

// BenchmarkAnswerToOpen: from the offerer applying the answer to the data
// channel open on both sides.
func BenchmarkAnswerToOpen(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	b.Run("pigeon", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			offerer, err := Offer(ctx, Options{}, sdpcodec.AppChat)
			if err != nil {
				b.Fatal(err)
			}
			answerer, err := Answer(ctx, Options{}, carry(b, offerer.Local()))
			if err != nil {
				b.Fatal(err)
			}
			answer := carry(b, answerer.Local())
			b.StartTimer()
			if err := offerer.Accept(answer); err != nil {
				b.Fatal(err)
			}
			if _, err := offerer.Connect(ctx); err != nil {
				b.Fatal(err)
			}
			if _, err := answerer.Connect(ctx); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			offerer.Close()
			answerer.Close()
			b.StartTimer()
		}
	})
	b.Run("pion-default", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			offerer, answerer := pionDefaultPair(b)
			offerOpen, answerOpen := make(chan struct{}), make(chan struct{})
			dc, err := offerer.CreateDataChannel("data", nil)
			if err != nil {
				b.Fatal(err)
			}
			dc.OnOpen(func() { close(offerOpen) })
			answerer.OnDataChannel(func(d *webrtc.DataChannel) { d.OnOpen(func() { close(answerOpen) }) })
			offer, _ := offerer.CreateOffer(nil)
			gathered := webrtc.GatheringCompletePromise(offerer)
			_ = offerer.SetLocalDescription(offer)
			<-gathered
			if err := answerer.SetRemoteDescription(*offerer.LocalDescription()); err != nil {
				b.Fatal(err)
			}
			a, _ := answerer.CreateAnswer(nil)
			gathered = webrtc.GatheringCompletePromise(answerer)
			_ = answerer.SetLocalDescription(a)
			<-gathered
			answer := *answerer.LocalDescription()
			b.StartTimer()
			if err := offerer.SetRemoteDescription(answer); err != nil {
				b.Fatal(err)
			}
			<-offerOpen
			<-answerOpen
			b.StopTimer()
			offerer.Close()
			answerer.Close()
			b.StartTimer()
		}
	})
}

func pionDefaultPair(b *testing.B) (offerer, answerer *webrtc.PeerConnection) {
	offerer, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		b.Fatal(err)
	}
	answerer, err = webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		b.Fatal(err)
	}
	return offerer, answerer
}

// BenchmarkJoin: from the joiner given the offer (Answer called) to the
// data channel open on both sides, with an open offer (nothing carried
// back) and with a two-way one (the answer carried back at once, as no
// person can).
func BenchmarkJoin(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for _, open := range []bool{true, false} {
		name := map[bool]string{true: "open", false: "two-way"}[open]
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				makeOffer := Offer
				if open {
					makeOffer = OfferOpen
				}
				offerer, err := makeOffer(ctx, Options{}, sdpcodec.AppChat)
				if err != nil {
					b.Fatal(err)
				}
				offer := carry(b, offerer.Local())
				b.StartTimer()
				joiner, err := Answer(ctx, Options{}, offer)
				if err != nil {
					b.Fatal(err)
				}
				if !open {
					if err := offerer.Accept(carry(b, joiner.Local())); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := offerer.Connect(ctx); err != nil {
					b.Fatal(err)
				}
				if _, err := joiner.Connect(ctx); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				offerer.Close()
				joiner.Close()
				b.StartTimer()
			}
		})
	}
}
