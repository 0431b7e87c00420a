package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"pigeon/sdpcodec"
	"pigeon/transfer"
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
			return describeBlob(s.out, d.blob, d.format)
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

func describeBlob(w io.Writer, b *sdpcodec.Blob, format sdpcodec.Format) error {
	text, err := b.Encode()
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "kind:         %s\n", b.Kind)
	if format == sdpcodec.FormatPigeon || format == 0 {
		fmt.Fprintf(bw, "format:       %s, version %d\n", sdpcodec.FormatPigeon, b.FormatVersion())
		if b.CarriesCredentials() {
			fmt.Fprintf(bw, "ice:          ufrag %s, password of %d characters, chosen by a browser (pigeon's page): no restarts\n", b.Ufrag, len(b.Pwd))
		}
	} else {
		fmt.Fprintf(bw, "format:       %s, written by pigeon for other programs (as a blob: %d characters)\n", format, len(text))
	}
	switch b.Kind {
	case sdpcodec.Offer:
		fmt.Fprintf(bw, "app:          %s\n", b.App)
		if o := b.Open; o != nil {
			state := "admits"
			if o.Expired(time.Now()) {
				state = "expired: it admitted"
			}
			fmt.Fprintf(bw, "open:         yes: it %s the first pigeon that reaches it directly, with no answer carried back, until %s\n", state, o.Expires.Local().Format("2006-01-02 15:04 MST"))
		}
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
	if format == sdpcodec.FormatPigeon || format == 0 {
		fmt.Fprintf(bw, "size:         %d characters (%d bytes)\n", len(text), (len(text)-len(sdpcodec.Prefix))*5/8)
	}
	describeCommon(bw, b)
	return bw.Flush()
}

func describeForeign(w io.Writer, f *sdpcodec.Foreign) error {
	b, err := f.Summary()
	if err != nil {
		return err
	}
	pr := f.Describe()
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "kind:         %s\n", f.Kind)
	fmt.Fprintf(bw, "format:       %s (another program's session description)\n", f.Format)
	fmt.Fprintf(bw, "program:      %s\n", pr.Name)
	fmt.Fprintf(bw, "size:         %d characters of SDP, %d as base64 JSON\n", len(f.SDP), len(sdpcodec.Base64JSON(f.Kind, f.SDP)))
	fmt.Fprintf(bw, "channels:     %s\n", channelSetup(pr))
	describeCommon(bw, b)
	return bw.Flush()
}

// channelSetup says how a description sets up its data channels.
func channelSetup(pr sdpcodec.Program) string {
	if pr.SCTPPort == 0 {
		return "none: it has no data channel section (a=sctp-port)"
	}
	size := "64 KiB (it names no a=max-message-size)"
	if pr.MaxMessageSize > 0 {
		size = transfer.FormatSize(int64(pr.MaxMessageSize))
	}
	role := map[string]string{"actpass": "either DTLS role", "active": "DTLS client", "passive": "DTLS server"}[pr.Setup]
	if role == "" {
		role = "DTLS role " + strconv.Quote(pr.Setup)
	}
	return fmt.Sprintf("SCTP port %d, messages up to %s, %s; channels are announced once connected (DCEP) or agreed on beforehand, never listed here", pr.SCTPPort, size, role)
}

func describeCommon(w io.Writer, b *sdpcodec.Blob) {
	if b.Kind != sdpcodec.Reconnect {
		fmt.Fprintf(w, "fingerprint:  sha-256 %s\n", b.FingerprintString())
	}
	fmt.Fprintf(w, "candidates:   %d\n", len(b.Candidates))
	for i, cand := range b.Candidates {
		note := ""
		if cand.Hostname != "" {
			note = " (an mDNS name: its address is resolved on the LAN when connecting)"
		}
		fmt.Fprintf(w, "  %d. %s%s\n", i+1, cand, note)
	}
}
