package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// flagsFirst rewrites a command line so that a command's flags may follow
// its arguments, as people write them (`pigeon send big.bin --out offer`):
// urfave/cli stops reading flags at the first argument. For the command
// named in args it moves each flag, with its value when the flag takes one,
// before the arguments, which follow a "--". A "--" in args ends the flags
// there: what follows it is arguments even when it starts with a dash
// (`pigeon send -- -weird.txt`). An unknown flag is moved too, for
// urfave/cli to refuse. With --help the arguments are dropped: the help is
// what was asked for.
func flagsFirst(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	// The command is the first argument: pigeon's own flags (--help,
	// --version) take no value.
	i := 1
	for i < len(args) && strings.HasPrefix(args[i], "-") && args[i] != "-" && args[i] != "--" {
		i++
	}
	if i == len(args) {
		return args
	}
	cmd := app.Command(args[i])
	if cmd == nil {
		return args
	}
	takesValue := map[string]bool{}
	for _, f := range cmd.Flags {
		v := true
		if d, ok := f.(cli.DocGenerationFlag); ok {
			v = d.TakesValue()
		}
		for _, name := range f.Names() {
			takesValue[name] = v
		}
	}
	out := append([]string{}, args[:i+1]...)
	var positional []string
	rest := args[i+1:]
	for j := 0; j < len(rest); j++ {
		a := rest[j]
		switch {
		case a == "--":
			positional = append(positional, rest[j+1:]...)
			j = len(rest)
		case a == "-" || !strings.HasPrefix(a, "-"):
			positional = append(positional, a)
		default:
			out = append(out, a)
			name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
			if !hasValue && takesValue[name] && j+1 < len(rest) {
				j++
				out = append(out, rest[j])
			}
		}
	}
	if asksHelp(out[i+1:]) {
		// urfave/cli would take the first argument for the command to
		// show help on.
		positional = nil
	}
	if len(positional) > 0 {
		out = append(append(out, "--"), positional...)
	}
	return out
}

// asksHelp reports whether flags hold -h or --help.
func asksHelp(flags []string) bool {
	for _, f := range flags {
		switch f {
		case "-h", "--h", "-help", "--help":
			return true
		}
	}
	return false
}
