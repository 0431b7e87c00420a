package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"pigeon/transfer"

	"github.com/urfave/cli/v2"

	"pigeon/pipe"
	"pigeon/sdpcodec"
)

func pipeCommand(s *streams) *cli.Command {
	return &cli.Command{
		Name:      "pipe",
		Usage:     "make an offer for a byte pipe: our standard input to the peer's standard output, and back",
		ArgsUsage: " ",
		Description: "Standard input carries the data, so the answer comes from --in FILE or is\n" +
			"asked for on the terminal. Each direction ends when its input ends (a terminal\n" +
			"as input sends nothing); the peer's output is then closed. pigeon exits 0 only\n" +
			"when every byte of both directions arrived. For example:\n\n" +
			"   tar c dir | pigeon pipe --in answer --out offer      (one computer)\n" +
			"   pigeon join --in offer --out answer | tar x          (the other)",
		Flags: append(sessionFlags(), lanesFlag(), openFlag()),
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return usageErrorf("pipe takes no arguments (got %q)", c.Args().First())
			}
			if err := checkLanes(c); err != nil {
				return err
			}
			if c.String("in") == "-" {
				return usageErrorf("--in - would read the answer from standard input, which carries the pipe's data: give a file")
			}
			ss := newSession(c, s)
			defer ss.close()
			if c.String("in") == "" && !ss.interactive {
				// The data is on standard input: ask on the terminal.
				tty, err := os.Open("/dev/tty")
				if err != nil {
					return usageErrorf("pigeon pipe reads its data from standard input and there is no terminal to ask for the answer: give it with --in FILE")
				}
				defer tty.Close()
				ss.ask, ss.askInteractive = bufio.NewReader(tty), true
			}
			if err := ss.offer(sdpcodec.AppPipe); err != nil {
				return err
			}
			if err := ss.readAnswer(); err != nil {
				return err
			}
			return runPipe(ss)
		},
	}
}

// runPipe connects and moves the bytes both ways.
func runPipe(ss *session) error {
	lanes := 0 // the offerer's choice
	if ss.c.Command.Name == "pipe" {
		lanes = ss.c.Int("lanes")
	}
	conn, err := ss.stripe(lanes)
	if err != nil {
		return err
	}
	var in io.Reader = ss.in
	if isTerminal(ss.s.in) {
		in = nil // a person at a terminal is not a stream of data
	}
	stats, err := pipe.Run(ss.c.Context, conn, in, ss.s.out)
	if err != nil {
		return err
	}
	secs := stats.Elapsed.Seconds()
	fmt.Fprintf(ss.s.errOut, "pigeon: pipe done: sent %s, received %s in %s (%.1f MB/s)\n",
		transfer.FormatSize(stats.Sent), transfer.FormatSize(stats.Received), durationText(stats.Elapsed), float64(stats.Sent+stats.Received)/1e6/max(secs, 1e-9))
	return nil
}
