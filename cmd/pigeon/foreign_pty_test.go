//go:build !windows

package main

import (
	"fmt"
	"strings"
	"testing"

	"pigeon/sdpcodec"
)

// laptopOffer is a browser's offer on a laptop with several interfaces,
// as base64 JSON: n candidates behind mDNS names and addresses, on top of
// a Chromium offer.
func laptopOffer(n int) string {
	var sb strings.Builder
	sb.WriteString("v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\na=extmap-allow-mixed\r\na=msid-semantic: WMS\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n")
	for i := range n {
		if i%2 == 0 {
			fmt.Fprintf(&sb, "a=candidate:%d 1 udp 2113937151 0b6b5c4e-8f0a-4a5e-9a38-3f6e0d1c2b%02d.local %d typ host generation 0 network-cost 999\r\n", 2318405538+i, i, 54376+i)
		} else {
			fmt.Fprintf(&sb, "a=candidate:%d 1 udp 1685987071 203.0.113.%d %d typ srflx raddr 0.0.0.0 rport 0 generation 0 network-id 1 network-cost 10\r\n", 3318405538+i, i, 54376+i)
		}
	}
	sb.WriteString("a=ice-ufrag:mA7p\r\na=ice-pwd:0H2xZ6qD3xY5bT8nLk1sQe9W\r\na=ice-options:trickle\r\na=fingerprint:sha-256 6B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08\r\na=setup:actpass\r\na=mid:0\r\na=sctp-port:5000\r\na=max-message-size:262144\r\n")
	return sdpcodec.Base64JSON(sdpcodec.Offer, sb.String())
}

// TestPromptTakesLaptopOffer: a browser's offer of about 2,000 characters
// pasted at join's prompt is read whole, and answered in its format.
func TestPromptTakesLaptopOffer(t *testing.T) {
	t.Parallel()
	offer := laptopOffer(8)
	if len(offer) < 2000 || len(offer) > 2400 {
		t.Fatalf("the offer has %d characters", len(offer))
	}
	term := startTerminal(t, "join")
	term.waitFor("Paste the offer from the other computer, then press Enter:", 1)
	term.typeLine(offer)
	term.waitFor("Answer; carry it back to the computer that made the offer", 1)
	term.waitFor("\r\neyJ0eXBlIjoiYW5zd2VyIi", 1)
	if strings.Contains(term.text(), "did not work") {
		t.Error("the offer was refused")
	}
	if _, err := term.pty.Write([]byte{3}); err != nil { // Ctrl-C
		t.Fatal(err)
	}
	term.wait()
}

// TestPromptSaysTerminalCut: a paste longer than the terminal passes on
// (Linux: 4,095 characters and the newline) is cut; pigeon says so, with
// what to do, and asks again.
func TestPromptSaysTerminalCut(t *testing.T) {
	t.Parallel()
	offer := laptopOffer(30)
	if len(offer) < 5000 {
		t.Fatalf("the offer has %d characters", len(offer))
	}
	const ask = "Paste the offer from the other computer, then press Enter:"
	term := startTerminal(t, "join")
	term.waitFor(ask, 1)
	term.typeLine(offer)
	term.waitFor("pigeon: that did not work: the terminal cut the paste at 4095 characters, where it cuts every line", 1)
	term.waitFor("pigeon: hint: give it to pigeon another way: save it to a file and use --in FILE", 1)
	term.waitFor(ask, 2)
	if _, err := term.pty.Write([]byte{3}); err != nil {
		t.Fatal(err)
	}
	term.wait()
}
