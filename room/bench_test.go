package room

import (
	"context"
	"testing"
	"time"

	"pigeon/peer"
	"pigeon/sdpcodec"
)

// BenchmarkMesh times a room coming together in one process over
// loopback: from the host's start to a host and three guests meshed (the
// host's open room offer, three joiners, and the three guests' direct
// connections negotiated through the host, every pair's offers crossing).
// The baseline is one connection between two pigeons with its offer and
// answer carried by hand, in the same run; mesh/pair says how many such
// connections' time a room of four costs (it holds six).
func BenchmarkMesh(b *testing.B) {
	b.Run("pair", func(b *testing.B) {
		var total time.Duration
		for range b.N {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			start := time.Now()
			opts := peer.Options{Loopback: true}
			o, err := peer.Offer(ctx, opts, sdpcodec.AppChat)
			if err != nil {
				b.Fatal(err)
			}
			a, err := peer.Answer(ctx, opts, carry(b, o.Local()))
			if err != nil {
				b.Fatal(err)
			}
			if err := o.Accept(carry(b, a.Local())); err != nil {
				b.Fatal(err)
			}
			if _, err := o.Connect(ctx); err != nil {
				b.Fatal(err)
			}
			if _, err := a.Connect(ctx); err != nil {
				b.Fatal(err)
			}
			total += time.Since(start)
			_ = o.Close()
			_ = a.Close()
			cancel()
		}
		b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/connected")
	})
	b.Run("room-4", func(b *testing.B) {
		var total time.Duration
		for range b.N {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			start := time.Now()
			tr := openRoom(b, ctx, "ann", "bob", "cat")
			tr.meshed(b)
			total += time.Since(start)
			tr.close()
			cancel()
		}
		b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/meshed")
	})
}
