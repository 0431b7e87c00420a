package main

import (
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/urfave/cli/v2"

	"pigeon/chat"
	"pigeon/sdpcodec"
	"pigeon/transfer"
)

func chatCommand(s *streams) *cli.Command {
	return &cli.Command{
		Name:      "chat",
		Usage:     "make an offer for a chat, read the answer, then chat line by line",
		ArgsUsage: " ",
		Description: "Prints an offer to carry to the other computer, where `pigeon join` answers\n" +
			"it. Paste the answer it prints at the prompt here and press Enter (a paste\n" +
			"wrapped over several lines is fine), or give it with --in FILE. Once\n" +
			"connected, each line typed on one side appears on the other; Ctrl-D or the\n" +
			"line /quit ends the chat for both. Both sides show the same six-digit\n" +
			"verification code, made from both blobs: if the codes differ, a blob was\n" +
			"swapped on the way (--verify asks to confirm it before any line is sent or\n" +
			"shown). Received lines go to standard output; at a terminal, a line that\n" +
			"arrives while you type shows above the line being typed.\n\n" +
			"   pigeon chat                            (one computer)\n" +
			"   pigeon join OFFER                      (the other)\n" +
			"   pigeon chat --out offer --in answer    (the blobs in files)",
		Flags: append(sessionFlags(), openFlag()),
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return usageErrorf("chat takes no arguments (got %q)", c.Args().First())
			}
			ss := newSession(c, s)
			defer ss.close()
			if err := ss.offer(sdpcodec.AppChat); err != nil {
				return err
			}
			// Lines typed while the answer is on its way or the connection
			// forms are read at once (a pasted blob among them is explained,
			// not sent), unless --verify must read its question's reply first.
			var lines <-chan chat.Fragment
			early := !c.Bool("verify")
			if early && c.String("in") != "" && c.String("in") != "-" {
				lines = ss.readLines()
			}
			if err := ss.readAnswer(); err != nil {
				return err
			}
			if early && lines == nil {
				lines = ss.readLines()
			}
			if lines != nil {
				lines = screenBlobs(ss, lines)
			}
			return runChat(ss, lines)
		},
	}
}

// runChat connects and chats until one side leaves. Lines come from
// standard input, read from the time the connection opens unless lines
// already reads them.
func runChat(ss *session, lines <-chan chat.Fragment) error {
	conn, err := ss.connect()
	if err != nil {
		return err
	}
	if lines == nil {
		lines = screenBlobs(ss, ss.readLines())
	}
	var out io.Writer = ss.s.out
	if ss.console != nil {
		out = ss.console
	}
	opts := chat.Options{}
	if isTerminal(ss.s.out) {
		opts.Format = formatLine
	}
	if ss.interactive {
		fmt.Fprintln(ss.s.errOut, "pigeon: type a line and press Enter to send it; Ctrl-D or /quit ends the chat")
	}
	var ending chat.Ending
	if conn.Plain() {
		opts.OnBinary = func(size int) {
			fmt.Fprintf(ss.s.errOut, "pigeon: the other side sent a binary message (%s), not shown: a chat shows text messages\n", transfer.FormatSize(int64(size)))
		}
		ending, err = chat.RunPlain(ss.c.Context, conn, lines, out, opts)
	} else {
		ending, err = chat.Run(ss.c.Context, conn, lines, out, opts)
	}
	if err != nil {
		return err
	}
	switch {
	case ending == chat.PeerLeft && conn.Plain():
		fmt.Fprintln(ss.s.errOut, "pigeon: the other side closed the chat")
	case ending == chat.PeerLeft:
		fmt.Fprintln(ss.s.errOut, "pigeon: the peer left the chat")
	default:
		fmt.Fprintln(ss.s.errOut, "pigeon: chat ended")
	}
	return nil
}

// screenBlobs keeps blobs pasted into the chat out of it: a reconnect blob
// from the other computer is applied; a second paste of the answer, or
// another peer's answer, while the connection forms, is explained. None is
// sent.
func screenBlobs(ss *session, lines <-chan chat.Fragment) <-chan chat.Fragment {
	out := make(chan chat.Fragment, cap(lines))
	go func() {
		defer close(out)
		for f := range lines {
			if !f.More && !f.Continued && strings.HasPrefix(sdpcodec.Clean(f.Text), sdpcodec.Prefix) {
				if b, err := sdpcodec.Parse(f.Text); err == nil && screenBlob(ss, b) {
					continue
				}
			}
			out <- f
		}
	}()
	return out
}

// screenBlob applies or explains a blob pasted into the chat, and reports
// whether it did (a blob that neither fits is sent as a line).
func screenBlob(ss *session, b *sdpcodec.Blob) bool {
	var err error
	switch {
	case b.Kind == sdpcodec.Reconnect:
		if err = ss.p.Reconnect(b); err == nil {
			fmt.Fprintf(ss.s.errOut, "pigeon: reconnect blob applied; reconnecting ...\n")
			return true
		}
	case ss.p.Local().Kind == sdpcodec.Offer && !isOpen(ss):
		if err = ss.p.Accept(b); err == nil {
			return true
		}
	default:
		return false
	}
	msg, hint := explain(err)
	fmt.Fprintf(ss.s.errOut, "pigeon: not sent as a chat line: %s\npigeon: hint: %s\n", msg, hint)
	return true
}

func isOpen(ss *session) bool {
	select {
	case <-ss.p.Opened():
		return true
	default:
		return false
	}
}

// formatLine shows a received line on a terminal.
func formatLine(line []byte) []byte {
	return []byte("peer: " + shown(string(line)) + "\n")
}

// shown is text from the other side made safe for a terminal: control
// characters that could move the cursor or change colours are shown
// escaped, as are bytes that are not UTF-8.
func shown(s string) string {
	var b strings.Builder
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[0])
		case r != '\t' && unicode.IsControl(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[:n])
		}
		s = s[n:]
	}
	return b.String()
}
