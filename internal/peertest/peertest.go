// Package peertest connects two real pigeon peers in one process, on
// loopback, through their encoded blobs, for the tests of the packages that
// run over a connection (chat, pipe, transfer, share).
package peertest

import (
	"context"
	"testing"

	"pigeon/peer"
	"pigeon/sdpcodec"
)

// Carry encodes a blob to text and parses it back, as a person carrying it
// between two terminals would.
func Carry(t testing.TB, b *sdpcodec.Blob) *sdpcodec.Blob {
	t.Helper()
	text, err := b.Encode()
	if err != nil {
		t.Fatalf("encoding the %s: %v", b.Kind, err)
	}
	out, err := sdpcodec.Parse(text)
	if err != nil {
		t.Fatalf("parsing the %s: %v", b.Kind, err)
	}
	return out
}

// Peers makes an offerer for app and its answerer on loopback, applies the
// answer, and closes both when the test ends. The connection may still be
// forming when it returns.
func Peers(t testing.TB, ctx context.Context, app sdpcodec.App) (offerer, answerer *peer.Peer) {
	t.Helper()
	opts := peer.Options{Loopback: true}
	offerer, err := peer.Offer(ctx, opts, app)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { offerer.Close() })
	answerer, err = peer.Answer(ctx, opts, Carry(t, offerer.Local()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { answerer.Close() })
	if err := offerer.Accept(Carry(t, answerer.Local())); err != nil {
		t.Fatal(err)
	}
	return offerer, answerer
}

// Pair connects two peers for app and returns the offerer's and the
// answerer's ends of channel 0.
func Pair(t testing.TB, ctx context.Context, app sdpcodec.App) (a, b *peer.Conn) {
	t.Helper()
	offerer, answerer := Peers(t, ctx, app)
	a, err := offerer.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if b, err = answerer.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	return a, b
}
