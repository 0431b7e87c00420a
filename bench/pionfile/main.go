// Command pionfile is the baseline for pigeon's file benchmark: a file
// carried between two processes over one data channel of two peers with
// pion's default settings, as in pion's data-channel examples (messages of
// 64 KiB through OnMessage, the sender keeping at most 1 MiB queued and
// woken below 256 KiB). Only loopback is used, so the peers meet at once,
// or the one interface PIONFILE_INTERFACE in the environment names.
//
//	pionfile send FILE OFFER ANSWER    makes the offer, sends FILE
//	pionfile receive FILE OFFER ANSWER answers, writes what arrives to FILE
//
// The descriptions travel through the files OFFER and ANSWER (base64 of the
// JSON session description, as pion's examples print them); a side waits
// for the other's file to appear. The receiver writes FILE without
// flushing it, as the benchmark's raw TCP copy does, and both exit 0 once
// every byte is in.
package main

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/pion/webrtc/v4"
)

const (
	chunk     = 64 << 10
	maxQueued = 1 << 20
	lowMark   = 256 << 10
)

func main() {
	if len(os.Args) != 5 || (os.Args[1] != "send" && os.Args[1] != "receive") {
		fmt.Fprintln(os.Stderr, "usage: pionfile send|receive FILE OFFER ANSWER")
		os.Exit(2)
	}
	run := send
	if os.Args[1] == "receive" {
		run = receive
	}
	if err := run(os.Args[2], os.Args[3], os.Args[4]); err != nil {
		fmt.Fprintln(os.Stderr, "pionfile:", err)
		os.Exit(1)
	}
}

func newPeer() (*webrtc.PeerConnection, error) {
	iface := os.Getenv("PIONFILE_INTERFACE")
	if iface == "" {
		iface = "lo"
	}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(iface == "lo")
	se.SetInterfaceFilter(func(name string) bool { return name == iface })
	return webrtc.NewAPI(webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
}

// send offers, then sends the file's size (8 bytes) and its content, and
// waits for the receiver's one-byte message saying all of it arrived.
func send(path, offerPath, answerPath string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	pc, err := newPeer()
	if err != nil {
		return err
	}
	defer pc.Close()
	dc, err := pc.CreateDataChannel("data", nil)
	if err != nil {
		return err
	}
	opened, done := make(chan struct{}), make(chan struct{})
	drained := make(chan struct{}, 1)
	dc.OnOpen(func() { close(opened) })
	dc.OnMessage(func(webrtc.DataChannelMessage) { close(done) })
	dc.SetBufferedAmountLowThreshold(lowMark)
	dc.OnBufferedAmountLow(func() {
		select {
		case drained <- struct{}{}:
		default:
		}
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return err
	}
	if err := describe(pc, offer, offerPath); err != nil {
		return err
	}
	answer, err := await(answerPath)
	if err != nil {
		return err
	}
	if err := pc.SetRemoteDescription(answer); err != nil {
		return err
	}
	<-opened
	if err := dc.Send(binary.BigEndian.AppendUint64(nil, uint64(fi.Size()))); err != nil {
		return err
	}
	buf := make([]byte, chunk)
	for {
		n, err := f.Read(buf)
		if n > 0 {
			for dc.BufferedAmount() > maxQueued {
				<-drained
			}
			if err := dc.Send(buf[:n]); err != nil {
				return err
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	select {
	case <-done:
		return nil
	case <-time.After(time.Minute):
		return errors.New("the receiver never said it had everything")
	}
}

// receive answers the offer and writes what arrives to path.
func receive(path, offerPath, answerPath string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	pc, err := newPeer()
	if err != nil {
		return err
	}
	defer pc.Close()
	result := make(chan error, 1)
	// The sender closes its end once it has the acknowledgement.
	closed := make(chan struct{})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateClosed || s == webrtc.PeerConnectionStateFailed {
			select {
			case <-closed:
			default:
				close(closed)
			}
		}
	})
	pc.OnDataChannel(func(dc *webrtc.DataChannel) {
		size, got := int64(-1), int64(0)
		dc.OnMessage(func(m webrtc.DataChannelMessage) {
			if size < 0 {
				size = int64(binary.BigEndian.Uint64(m.Data))
			} else if _, err := f.Write(m.Data); err != nil {
				result <- err
				return
			} else {
				got += int64(len(m.Data))
			}
			if got == size {
				result <- dc.Send([]byte{1})
			}
		})
	})
	offer, err := await(offerPath)
	if err != nil {
		return err
	}
	if err := pc.SetRemoteDescription(offer); err != nil {
		return err
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return err
	}
	if err := describe(pc, answer, answerPath); err != nil {
		return err
	}
	if err := <-result; err != nil {
		return err
	}
	// Close only once the sender has the acknowledgement, or could not
	// get it.
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
	}
	return f.Close()
}

// describe sets desc as pc's local description and, once gathering is
// complete, writes it to path (under a temporary name first, so the other
// side never reads half of it).
func describe(pc *webrtc.PeerConnection, desc webrtc.SessionDescription, path string) error {
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(desc); err != nil {
		return err
	}
	<-gathered
	blob, err := json.Marshal(pc.LocalDescription())
	if err != nil {
		return err
	}
	if err := os.WriteFile(path+".tmp", []byte(base64.StdEncoding.EncodeToString(blob)), 0o644); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}

// await reads the description in path once it appears.
func await(path string) (webrtc.SessionDescription, error) {
	var desc webrtc.SessionDescription
	deadline := time.Now().Add(time.Minute)
	for {
		text, err := os.ReadFile(path)
		if err == nil {
			blob, err := base64.StdEncoding.DecodeString(string(text))
			if err != nil {
				return desc, err
			}
			return desc, json.Unmarshal(blob, &desc)
		}
		if !errors.Is(err, os.ErrNotExist) || time.Now().After(deadline) {
			return desc, err
		}
		time.Sleep(5 * time.Millisecond)
	}
}
