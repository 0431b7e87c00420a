package main

import (
	"bufio"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"pigeon/sdpcodec"
)

func inspectCommand(s *streams) *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Usage:     "decode a blob and show what is inside",
		ArgsUsage: "[BLOB]",
		Description: "Reads the blob from the argument, --in FILE, or standard input, and prints its\n" +
			"kind, app, candidates, fingerprint and size on standard output.\n\n" +
			"   pigeon inspect BLOB\n" +
			"   pigeon inspect --sdp --in offer.png",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "in", Usage: "read the blob from `FILE` (- for standard input)"},
			&cli.BoolFlag{Name: "sdp", Usage: "print the session description rebuilt from the blob instead"},
		},
		Action: func(c *cli.Context) error {
			d, err := inspectInput(c, s)
			if err != nil {
				return err
			}
			if c.Bool("sdp") {
				sdp := ""
				if d.foreign != nil {
					sdp = d.foreign.SDP
				} else {
					sdp = d.blob.SDP()
				}
				_, err = io.WriteString(s.out, sdp)
				return err
			}
			if d.foreign != nil {
				return describeForeign(s.out, d.foreign)
			}
			return describeBlob(s.out, d.blob)
		},
	}
}

func inspectInput(c *cli.Context, s *streams) (desc, error) {
	path := c.String("in")
	switch {
	case c.Args().Present() && path != "":
		return desc{}, usageErrorf("give the blob either as an argument or with --in, not both")
	case c.Args().Present():
		return argumentDesc(c)
	case path != "" && path != "-":
		return readDescFile(c.Context, path, s.errOut)
	}
	interactive := path == "" && isTerminal(s.in) && isTerminal(s.errOut)
	return prompt(c.Context, bufio.NewReader(s.in), s.errOut, interactive, true, "Paste a blob, then press Enter:",
		func(desc) error { return nil })
}

func describeBlob(w io.Writer, b *sdpcodec.Blob) error {
	text, err := b.Encode()
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "kind:         %s\n", b.Kind)
	fmt.Fprintf(bw, "format:       %s, version %d\n", sdpcodec.FormatPigeon, sdpcodec.Version)
	switch b.Kind {
	case sdpcodec.Offer:
		fmt.Fprintf(bw, "app:          %s\n", b.App)
	case sdpcodec.Answer:
		fmt.Fprintf(bw, "answers:      the offer whose fingerprint starts %03X (first 12 bits)\n", b.Binding)
	case sdpcodec.Reconnect:
		from := "answerer (the side that ran join)"
		if b.FromOfferer {
			from = "offerer (the side that made the offer)"
		}
		fmt.Fprintf(bw, "session:      %04X (15 bits of both fingerprints)\n", b.Session)
		fmt.Fprintf(bw, "from:         the %s\n", from)
		fmt.Fprintf(bw, "generation:   %d (ICE restart number)\n", b.Generation)
	}
	fmt.Fprintf(bw, "size:         %d characters (%d bytes)\n", len(text), (len(text)-len(sdpcodec.Prefix))*5/8)
	describeCommon(bw, b)
	return bw.Flush()
}

func describeForeign(w io.Writer, f *sdpcodec.Foreign) error {
	b, err := f.Summary()
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "kind:         %s\n", f.Kind)
	fmt.Fprintf(bw, "format:       %s (another program's session description)\n", f.Format)
	fmt.Fprintf(bw, "size:         %d characters of SDP\n", len(f.SDP))
	describeCommon(bw, b)
	return bw.Flush()
}

func describeCommon(w io.Writer, b *sdpcodec.Blob) {
	if b.Kind != sdpcodec.Reconnect {
		fmt.Fprintf(w, "fingerprint:  sha-256 %s\n", b.FingerprintString())
	}
	fmt.Fprintf(w, "candidates:   %d\n", len(b.Candidates))
	for i, cand := range b.Candidates {
		fmt.Fprintf(w, "  %d. %s\n", i+1, cand)
	}
}
