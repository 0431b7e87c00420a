package chat_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"pigeon/chat"
	"pigeon/internal/peertest"
	"pigeon/peer"
	"pigeon/sdpcodec"
)

type result struct {
	ending chat.Ending
	err    error
	out    string
	took   time.Duration
}

// both runs a chat on each end with the given inputs and returns how each
// side ended and what it printed.
func both(t *testing.T, inA, inB string, holdB bool) (ra, rb result) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a, b := peertest.Pair(t, ctx, sdpcodec.AppChat)
	var wg sync.WaitGroup
	run := func(conn *peer.Conn, input string, hold bool, r *result) {
		defer wg.Done()
		var out bytes.Buffer
		// Every line is typed (read) before the chat starts. Held input
		// stays open: that side only leaves when the peer does.
		in := make(chan chat.Fragment, 64)
		for f := range chat.ReadLines(strings.NewReader(input)) {
			in <- f
		}
		if !hold {
			close(in)
		}
		start := time.Now()
		r.ending, r.err = chat.Run(ctx, conn, in, &out, chat.Options{})
		r.out, r.took = out.String(), time.Since(start)
	}
	wg.Add(2)
	go run(a, inA, false, &ra)
	go run(b, inB, holdB, &rb)
	wg.Wait()
	return ra, rb
}

func TestLinesBothWaysThenLeave(t *testing.T) {
	ra, rb := both(t, "hello from a\nsecond line\n", "hello from b\n", true)
	if ra.err != nil || rb.err != nil {
		t.Fatalf("errors: a %v, b %v", ra.err, rb.err)
	}
	if ra.ending != chat.WeLeft || rb.ending != chat.PeerLeft {
		t.Errorf("endings: a %v, b %v; want a left, b saw the peer leave", ra.ending, rb.ending)
	}
	if rb.out != "hello from a\nsecond line\n" {
		t.Errorf("b printed %q", rb.out)
	}
	if ra.out != "hello from b\n" {
		t.Errorf("a printed %q, want b's line, typed before a left", ra.out)
	}
}

func TestQuitEndsBoth(t *testing.T) {
	ra, rb := both(t, "bye now\n/quit\nnever sent\n", "", true)
	if ra.err != nil || rb.err != nil || ra.ending != chat.WeLeft || rb.ending != chat.PeerLeft {
		t.Fatalf("a: %v %v; b: %v %v", ra.ending, ra.err, rb.ending, rb.err)
	}
	if rb.out != "bye now\n" {
		t.Errorf("b printed %q, want only the line before /quit", rb.out)
	}
}

func TestBothLeaveAtOnce(t *testing.T) {
	ra, rb := both(t, "from a\n", "from b\n", false)
	if ra.err != nil || rb.err != nil {
		t.Fatalf("errors: a %v, b %v", ra.err, rb.err)
	}
	if ra.out != "from b\n" || rb.out != "from a\n" {
		t.Errorf("a printed %q, b printed %q", ra.out, rb.out)
	}
	for name, r := range map[string]result{"a": ra, "b": rb} {
		if r.took > 3*time.Second {
			t.Errorf("%s took %v to end: the goodbye handshake waited for its timeout", name, r.took)
		}
	}
}

func TestLongLinesArriveWhole(t *testing.T) {
	long := strings.Repeat("0123456789abcdef", 20<<10) // 320 KiB, split into frames
	input := long + "\n" + "é" + strings.Repeat("ü", chat.MaxFragment) + "\nshort\n"
	_, rb := both(t, input, "", true)
	if rb.err != nil {
		t.Fatal(rb.err)
	}
	if want := input; rb.out != want {
		t.Errorf("b printed %d bytes, want the %d bytes sent, unchanged", len(rb.out), len(want))
	}
}

func TestReadLines(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"a\nb\n", []string{"a", "b"}},
		{"a\r\nb", []string{"a", "b"}},
		{"\n\n", []string{"", ""}},
		{"", nil},
	}
	for _, c := range cases {
		var got []string
		for f := range chat.ReadLines(strings.NewReader(c.in)) {
			got = append(got, f.Text)
		}
		if strings.Join(got, "|") != strings.Join(c.want, "|") || len(got) != len(c.want) {
			t.Errorf("ReadLines(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	// A long line comes in fragments that join back to the line.
	long := strings.Repeat("x", 3*chat.MaxFragment+5)
	var joined strings.Builder
	n := 0
	for f := range chat.ReadLines(strings.NewReader(long + "\nnext\n")) {
		n++
		if n == 1 && (!f.More || f.Continued) {
			t.Errorf("first fragment: More %v Continued %v", f.More, f.Continued)
		}
		if f.Text == "next" {
			break
		}
		joined.WriteString(f.Text)
	}
	if joined.String() != long {
		t.Errorf("fragments join to %d bytes, want %d", joined.Len(), len(long))
	}
}
