package main

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/urfave/cli/v2"

	"pigeon/peer"
	"pigeon/sdpcodec"
)

func demoCommand(s *streams) *cli.Command {
	return &cli.Command{
		Name:  "demo",
		Usage: "run both ends in this process over loopback and show each step",
		Description: "Makes an offer, answers it, connects the two ends over loopback, exchanges a\n" +
			"few messages and reports timings. Received messages go to standard output;\n" +
			"everything else to standard error.\n\n" +
			"   pigeon demo\n" +
			"   pigeon demo --no-qr",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "no-qr", Usage: "do not draw the QR codes"},
		},
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return usageErrorf("demo takes no arguments (got %q)", c.Args().First())
			}
			return runDemo(c.Context, s, !c.Bool("no-qr"))
		},
	}
}

func runDemo(ctx context.Context, s *streams, qr bool) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	w := s.errOut
	opts := peer.Options{Loopback: true}
	fmt.Fprintln(w, "pigeon demo: both ends of a connection in this one process, over loopback.")

	start := time.Now()
	offerer, err := peer.Offer(ctx, opts, sdpcodec.AppChat)
	if err != nil {
		return err
	}
	defer offerer.Close()
	tOffer := time.Since(start)
	offerText, err := demoBlob(s, offerer.Local(), qr, fmt.Sprintf("1. The offer, made in %s", durationText(tOffer)))
	if err != nil {
		return err
	}

	// The person carries the offer: the answering side decodes the text.
	offer, err := sdpcodec.Parse(offerText)
	if err != nil {
		return err
	}
	start = time.Now()
	answerer, err := peer.Answer(ctx, opts, offer)
	if err != nil {
		return err
	}
	defer answerer.Close()
	tAnswer := time.Since(start)
	answerText, err := demoBlob(s, answerer.Local(), qr, fmt.Sprintf("2. The answer, made in %s", durationText(tAnswer)))
	if err != nil {
		return err
	}

	answer, err := sdpcodec.Parse(answerText)
	if err != nil {
		return err
	}
	start = time.Now()
	if err := offerer.Accept(answer); err != nil {
		return err
	}
	a, err := offerer.Connect(ctx)
	if err != nil {
		return err
	}
	b, err := answerer.Connect(ctx)
	if err != nil {
		return err
	}
	tOpen := time.Since(start)
	path, err := offerer.Path()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "3. Connected: %s, open %s after the answer was applied.\n\n", path, durationText(tOpen))

	fmt.Fprintln(w, "4. Messages (received ones on standard output):")
	buf := make([]byte, peer.MaxMessage)
	exchange := func(from string, src, dst *peer.Conn, text string) error {
		if err := src.WriteMessage([]byte(text)); err != nil {
			return err
		}
		n, err := dst.ReadMessage(buf)
		if err != nil {
			return err
		}
		fmt.Fprintf(s.out, "%s says: %s\n", from, buf[:n])
		return nil
	}
	if err := exchange("offerer", a, b, "hello from the offering side"); err != nil {
		return err
	}
	if err := exchange("answerer", b, a, "hello back from the answering side"); err != nil {
		return err
	}
	rtt, err := roundTrips(a, b, 200, buf)
	if err != nil {
		return err
	}

	fmt.Fprintf(w, "\n5. Timings: offer %s, answer %s, answer applied to channel open %s, message round trip %s (median of 200).\n",
		durationText(tOffer), durationText(tAnswer), durationText(tOpen), durationText(rtt))
	fmt.Fprintf(w, "   Blobs: offer %d characters, answer %d characters.\n", len(offerText), len(answerText))
	fmt.Fprintln(w, "\nTo connect two computers: run `pigeon chat` on one and `pigeon join` on the other.")
	return nil
}

func demoBlob(s *streams, b *sdpcodec.Blob, qr bool, intro string) (string, error) {
	text, err := b.Encode()
	if err != nil {
		return "", err
	}
	fmt.Fprintf(s.errOut, "\n%s (%d characters):\n\n%s\n\n", intro, len(text), text)
	if qr {
		if err := drawQR(s.errOut, text); err != nil {
			return "", err
		}
	}
	return text, nil
}

// roundTrips measures the median time for a message to go from a to b and back.
func roundTrips(a, b *peer.Conn, n int, buf []byte) (time.Duration, error) {
	times := make([]time.Duration, 0, n)
	msg := []byte("ping")
	for range n {
		start := time.Now()
		if err := a.WriteMessage(msg); err != nil {
			return 0, err
		}
		if _, err := b.ReadMessage(buf); err != nil {
			return 0, err
		}
		if err := b.WriteMessage(msg); err != nil {
			return 0, err
		}
		if _, err := a.ReadMessage(buf); err != nil {
			return 0, err
		}
		times = append(times, time.Since(start))
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	return times[n/2], nil
}
