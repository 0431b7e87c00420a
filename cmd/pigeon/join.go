package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"pigeon/chat"
	"pigeon/sdpcodec"
)

func joinCommand(s *streams) *cli.Command {
	return &cli.Command{
		Name:      "join",
		Usage:     "answer an offer; the offer says which app runs",
		ArgsUsage: "[OFFER]",
		Description: "Reads the offer from the argument, --in FILE, or a prompt; prints the answer\n" +
			"to carry back; then runs the session the offer is for.",
		Flags: sessionFlags(),
		Action: func(c *cli.Context) error {
			ss := newSession(c, s)
			defer ss.close()
			supported := func(app sdpcodec.App) error {
				if app != sdpcodec.AppChat && app != sdpcodec.AppPipe {
					return fmt.Errorf("%w: the offer is for `pigeon %s`", errUnsupportedApp, app)
				}
				return nil
			}
			app, err := ss.join(supported)
			if err != nil {
				return err
			}
			if app == sdpcodec.AppPipe {
				return runPipe(ss)
			}
			var lines <-chan chat.Fragment
			if !c.Bool("verify") {
				// Read at once: lines typed while the connection forms are
				// sent when it opens.
				lines = chat.ReadLines(ss.in)
			}
			return runChat(ss, lines)
		},
	}
}
