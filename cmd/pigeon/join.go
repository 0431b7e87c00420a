package main

import (
	"fmt"
	"net"

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
			"to carry back; then runs the session the offer is for. For an offer of files\n" +
			"(`pigeon send`) it shows what is offered and asks before anything is written\n" +
			"(--yes accepts without asking); they go into --dir, and a file that is there\n" +
			"with other content refuses the transfer unless --overwrite is given. An offer\n" +
			"that would leave less than 512 MiB free on that disk, or pass --max-size, is\n" +
			"refused; a stream (send -) that would is stopped and its partial file removed.\n" +
			"For an offer of a TCP service (`pigeon share`) it listens on --listen and\n" +
			"carries each connection made there to the service on the other computer.\n\n" +
			"   pigeon join OFFER\n" +
			"   pigeon join --in offer --out answer\n" +
			"   pigeon join --yes --dir ~/Downloads OFFER",
		Flags: append(append(sessionFlags(), receiveFlags()...), listenFlag(), nameFlag()),
		Action: func(c *cli.Context) error {
			if err := checkReceiveFlags(c); err != nil {
				return err
			}
			if c.IsSet("name") {
				if _, err := roomName(c); err != nil {
					return err
				}
			}
			var ln net.Listener
			if c.IsSet("listen") {
				var err error
				if ln, err = listenShare(c); err != nil {
					return err
				}
				defer ln.Close()
			}
			ss := newSession(c, s)
			defer ss.close()
			// A chat's lines are read from the moment the offer is known:
			// lines typed while the connection forms (or that were typed
			// ahead) are sent when it opens, even if the other side leaves
			// at once. --verify must read its question's reply first.
			var lines <-chan chat.Fragment
			ss.offerRead = func(app sdpcodec.App) {
				if app == sdpcodec.AppChat && !c.Bool("verify") {
					lines = ss.readLines()
				}
			}
			supported := func(app sdpcodec.App) error {
				if ln != nil && app != sdpcodec.AppShare {
					return fmt.Errorf("%w: this offer is for `pigeon %s`", errListenNotShare, app)
				}
				switch app {
				case sdpcodec.AppChat, sdpcodec.AppPipe, sdpcodec.AppShare:
					return nil
				case sdpcodec.AppRoom:
					_, err := roomName(c)
					return err
				case sdpcodec.AppSend:
					return checkReceive(ss)
				}
				return fmt.Errorf("%w: the offer is for `pigeon %s`", errUnsupportedApp, app)
			}
			app, err := ss.join(supported)
			if err != nil {
				return err
			}
			switch app {
			case sdpcodec.AppPipe:
				return runPipe(ss)
			case sdpcodec.AppSend:
				return runReceive(ss)
			case sdpcodec.AppRoom:
				return runRoomGuest(ss)
			case sdpcodec.AppShare:
				if ln == nil {
					if ln, err = listenShare(c); err != nil {
						return err
					}
				}
				return runShareJoin(ss, ln)
			}
			return runChat(ss, lines)
		},
	}
}
