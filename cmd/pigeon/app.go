package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"
)

// streams are the terminal I/O a command gets.
type streams struct {
	in     io.Reader
	out    io.Writer     // data only
	errOut *switchWriter // everything a person reads
	// interrupt ends the command as Ctrl-C does, for a terminal in raw
	// mode, where Ctrl-C is a byte read.
	interrupt func()
}

// run is the whole program; it returns the exit code: 0 success, 1 failure,
// 2 usage mistake.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, interrupt := context.WithCancel(ctx)
	defer interrupt()
	tuneGC()
	s := &streams{in: stdin, out: stdout, errOut: &switchWriter{base: stderr}, interrupt: interrupt}
	app := newApp(s)
	err := app.RunContext(ctx, flagsFirst(app, args))
	if err == nil {
		return 0
	}
	return report(stderr, err)
}

func newApp(s *streams) *cli.App {
	// urfave/cli keeps these in package variables.
	cli.HelpPrinter = printHelp
	cli.HelpFlag = &cli.BoolFlag{Name: "help", Aliases: []string{"h"}, Usage: "show this help", DisableDefaultText: true}
	// -v is --verbose in the commands: the version has no short name.
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Usage: "print pigeon's version and its blob format's", DisableDefaultText: true}
	cli.VersionPrinter = func(c *cli.Context) { fmt.Fprintln(c.App.Writer, versionText()) }
	app := &cli.App{
		Name:  "pigeon",
		Usage: "connect two computers with WebRTC by carrying one offer and one answer by hand",
		Description: "One side starts a session (chat, send, pipe, share) and prints an offer; the other side runs\n" +
			"`pigeon join` with it and prints an answer; the first side reads the answer\n" +
			"and a direct, encrypted connection opens.",
		Version: versionText(),
		// Help that was asked for is what the person wanted: stdout. Usage
		// shown for a mistake goes to stderr (see Action).
		Writer:          s.out,
		ErrWriter:       s.errOut,
		HideHelpCommand: true,
		ExitErrHandler:  func(*cli.Context, error) {},
		OnUsageError:    onUsageError,
		// Our own help command stops urfave/cli from adding its help flag.
		Flags:           []cli.Flag{cli.HelpFlag},
		CommandNotFound: func(c *cli.Context, name string) {},
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return usageErrorf("unknown command %q", c.Args().First())
			}
			printHelp(s.errOut, "", c.App)
			return usageErrorf("no command given")
		},
		Commands: []*cli.Command{
			chatCommand(s),
			sendCommand(s),
			pipeCommand(s),
			shareCommand(s),
			roomCommand(s),
			joinCommand(s),
			inspectCommand(s),
			webCommand(s),
			demoCommand(s),
			helpCommand(),
			versionCommand(),
		},
	}
	for _, c := range app.Commands {
		c.OnUsageError = onUsageError
		// No "help" subcommand: `pigeon send help` sends a file named help.
		c.HideHelpCommand = true
	}
	return app
}

// usageError is a mistake in how pigeon was called: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, a ...any) error {
	return &usageError{fmt.Sprintf(format, a...)}
}

func onUsageError(_ *cli.Context, err error, _ bool) error {
	return &usageError{err.Error()}
}

// report prints err as "pigeon: error:" and "pigeon: hint:" lines and
// returns the exit code.
func report(w io.Writer, err error) int {
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(w, "pigeon: interrupted")
		return 1
	}
	msg, hint := explain(err)
	fmt.Fprintf(w, "pigeon: error: %s\n", msg)
	if hint != "" {
		fmt.Fprintf(w, "pigeon: hint: %s\n", hint)
	}
	var ue *usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}
