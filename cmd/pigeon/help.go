package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"pigeon/sdpcodec"
)

// helpWidth is the width help text is written for: a terminal's 80
// columns.
const helpWidth = 80

// printHelp writes the help of the app or of one command, in place of
// urfave/cli's templates: each option's text wraps in a column of its own
// within [helpWidth], placeholders name what a value is (DURATION, N) and a
// default is shown once, only where there is one worth showing.
func printHelp(w io.Writer, _ string, data any) {
	var b strings.Builder
	switch d := data.(type) {
	case *cli.App:
		appHelp(&b, d)
	case *cli.Command:
		commandHelp(&b, d)
	default:
		return
	}
	_, _ = io.WriteString(w, b.String())
}

func appHelp(b *strings.Builder, app *cli.App) {
	b.WriteString("NAME:\n")
	hanging(b, 3, app.Name+" - ", app.Usage)
	b.WriteString("\nUSAGE:\n   pigeon COMMAND [options] [arguments]\n")
	if app.Description != "" {
		b.WriteString("\nDESCRIPTION:\n")
		description(b, app.Description)
	}
	b.WriteString("\nCOMMANDS:\n")
	var names []string
	var usages []string
	for _, c := range app.VisibleCommands() {
		name := c.Name
		if c.ArgsUsage != "" && strings.TrimSpace(c.ArgsUsage) != "" {
			name += " " + c.ArgsUsage
		}
		names = append(names, name)
		usages = append(usages, c.Usage)
	}
	columns(b, names, usages)
	b.WriteString("\nOPTIONS:\n")
	optionList(b, app.VisibleFlags())
	b.WriteString("\nRun `pigeon help COMMAND` or `pigeon COMMAND --help` for a command's options.\n")
}

func commandHelp(b *strings.Builder, c *cli.Command) {
	b.WriteString("NAME:\n")
	hanging(b, 3, "pigeon "+c.Name+" - ", c.Usage)
	b.WriteString("\nUSAGE:\n   pigeon " + c.Name)
	if len(c.VisibleFlags()) > 0 {
		b.WriteString(" [options]")
	}
	if args := strings.TrimSpace(c.ArgsUsage); args != "" {
		b.WriteString(" " + args)
	}
	b.WriteString("\n")
	if c.Description != "" {
		b.WriteString("\nDESCRIPTION:\n")
		description(b, c.Description)
	}
	if flags := c.VisibleFlags(); len(flags) > 0 {
		b.WriteString("\nOPTIONS:\n")
		optionList(b, flags)
	}
}

// description writes text, indented: its paragraphs (separated by empty
// lines) are filled to the width, and lines that start with spaces
// (examples) are kept as they are.
func description(b *strings.Builder, text string) {
	for i, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		if i > 0 {
			b.WriteString("\n")
		}
		var words []string
		flush := func() {
			if len(words) > 0 {
				fill(b, 3, 3, "", strings.Join(words, " "))
				words = nil
			}
		}
		for _, line := range strings.Split(para, "\n") {
			if strings.HasPrefix(line, " ") {
				flush()
				b.WriteString("   " + line + "\n")
				continue
			}
			words = append(words, strings.Fields(line)...)
		}
		flush()
	}
}

// optionList writes one entry per flag: its names and placeholder, then
// its text in a column of its own.
func optionList(b *strings.Builder, flags []cli.Flag) {
	var names, texts []string
	for _, f := range flags {
		n, t := flagHelp(f)
		names = append(names, n)
		texts = append(texts, t)
	}
	columns(b, names, texts)
}

// columns writes names and their texts side by side; a name too long for
// the column has its text start on the next line.
func columns(b *strings.Builder, names, texts []string) {
	const most = 24
	width := 0
	for _, n := range names {
		if len(n) <= most {
			width = max(width, len(n))
		}
	}
	indent := 3 + width + 2
	for i, n := range names {
		if len(n) > width {
			b.WriteString("   " + n + "\n")
			fill(b, indent, indent, "", texts[i])
			continue
		}
		fill(b, 3, indent, n+strings.Repeat(" ", width+2-len(n)), texts[i])
	}
}

// hanging writes head and then text, filled, the following lines indented
// to where text began.
func hanging(b *strings.Builder, indent int, head, text string) {
	fill(b, indent, indent+len(head), head, text)
}

// fill writes lead and then text filled to [helpWidth]: the first line
// indented by first spaces, the others by rest.
func fill(b *strings.Builder, first, rest int, lead, text string) {
	line := strings.Repeat(" ", first) + lead
	n := len([]rune(line))
	fresh := true
	for _, word := range strings.Fields(text) {
		wl := len([]rune(word))
		if !fresh && n+1+wl > helpWidth {
			b.WriteString(line + "\n")
			line, n = strings.Repeat(" ", rest)+word, rest+wl
			continue
		}
		if !fresh {
			line += " "
			n++
		}
		line += word
		n += wl
		fresh = false
	}
	b.WriteString(line + "\n")
}

// flagHelp is how a flag is listed: "--in FILE", "--verbose, -v", and its
// text with the default and the environment variables that set it.
func flagHelp(f cli.Flag) (names, text string) {
	var parts []string
	for _, n := range f.Names() {
		if len(n) == 1 {
			parts = append(parts, "-"+n)
		} else {
			parts = append(parts, "--"+n)
		}
	}
	d, ok := f.(cli.DocGenerationFlag)
	if !ok {
		return strings.Join(parts, ", "), ""
	}
	placeholder, usage := unquoteUsage(d.GetUsage())
	if d.TakesValue() {
		if placeholder == "" {
			switch f.(type) {
			case *cli.DurationFlag:
				placeholder = "DURATION"
			case *cli.IntFlag:
				placeholder = "N"
			default:
				placeholder = "VALUE"
			}
		}
		parts[0] += " " + placeholder
	}
	text = usage
	def := d.GetDefaultText()
	if u, err := strconv.Unquote(def); err == nil {
		def = u
	}
	if d.TakesValue() && def != "" && def != "0s" && !strings.Contains(usage, "default") {
		text += " (default: " + def + ")"
	}
	if env := d.GetEnvVars(); len(env) > 0 {
		text += " (environment: " + strings.Join(env, ", ") + ")"
	}
	return strings.Join(parts, ", "), text
}

// versionText is what `pigeon version` prints: the module's version
// ("devel" when built from a checkout without one) and the blob format's.
func versionText() string {
	v := "devel"
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		v = info.Main.Version
	}
	return fmt.Sprintf("pigeon %s (blob formats v1 to v%d)", v, sdpcodec.Version)
}

// helpCommand is `pigeon help [COMMAND]`: help on standard output.
func helpCommand() *cli.Command {
	return &cli.Command{
		Name:      "help",
		Usage:     "show how to call pigeon, or one command",
		ArgsUsage: "[COMMAND]",
		Description: "Prints the list of commands, or the options of one, on standard output.\n\n" +
			"   pigeon help\n" +
			"   pigeon help send",
		Action: func(c *cli.Context) error {
			switch c.NArg() {
			case 0:
				return cli.ShowAppHelp(c)
			case 1:
				name := c.Args().First()
				if c.App.Command(name) == nil {
					return usageErrorf("unknown command %q", name)
				}
				return cli.ShowCommandHelp(c, name)
			}
			return usageErrorf("help takes at most one command (got %q)", c.Args().Slice())
		},
	}
}

// versionCommand is `pigeon version`.
func versionCommand() *cli.Command {
	return &cli.Command{
		Name:        "version",
		Usage:       "print pigeon's version and its blob format's",
		ArgsUsage:   " ",
		Description: "Prints, on standard output, e.g. `pigeon v1.2.0 (blob format v1)`; two\ncomputers whose blob formats differ cannot read each other's blobs.",
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return usageErrorf("version takes no arguments (got %q)", c.Args().First())
			}
			_, err := fmt.Fprintln(c.App.Writer, versionText())
			return err
		},
	}
}

// unquoteUsage splits a flag's usage as urfave/cli reads it: the first
// `QUOTED` word names the value, and is kept in the text without its quotes.
func unquoteUsage(usage string) (name, text string) {
	before, rest, ok := strings.Cut(usage, "`")
	if !ok {
		return "", usage
	}
	name, after, ok := strings.Cut(rest, "`")
	if !ok {
		return "", usage
	}
	return name, before + name + after
}
