package main

import (
	"fmt"
	"math"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pion/logging"
	"github.com/pion/stun/v4"
	"github.com/pion/webrtc/v4"
	"github.com/urfave/cli/v2"

	"pigeon/peer"
)

// sessionFlags are the flags of every command that makes or joins a session.
func sessionFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "in", Usage: "read the peer's blob from `FILE`: text, or a PNG or JPEG image of its QR code (waits until it exists and is not empty; - for standard input)"},
		&cli.StringFlag{Name: "out", Usage: "also write our blob to `FILE`"},
		&cli.BoolFlag{Name: "qr", Usage: "draw our blob as a QR code"},
		&cli.StringFlag{Name: "qr-png", Usage: "also write our blob as a QR code image to `FILE` (PNG)"},
		&cli.StringFlag{Name: "format", Usage: "write our description as `FORMAT`: pigeon (a short blob) or json (base64 JSON, as pion's examples and many browser pages read); default: pigeon, or the format of the offer we answer"},
		&cli.StringSliceFlag{Name: "stun", Usage: "use the STUN server at `URL` (stun:HOST:PORT; repeatable)", EnvVars: []string{"PIGEON_STUN"}},
		&cli.StringSliceFlag{Name: "turn", Usage: "relay through the TURN server at `URL` (turn:USER:PASS@HOST:PORT[?transport=tcp], or turns:... over TLS; repeatable)", EnvVars: []string{"PIGEON_TURN"}},
		&cli.StringFlag{Name: "turn-user", Usage: "log in to TURN servers whose URL names no user as `USER`", EnvVars: []string{"PIGEON_TURN_USER"}},
		&cli.StringFlag{Name: "turn-pass", Usage: "with --turn-user, the `PASSWORD` (the environment keeps it out of the process list)", EnvVars: []string{"PIGEON_TURN_PASS"}},
		&cli.StringSliceFlag{Name: "interface", Usage: "gather candidates only on interface `NAME` (repeatable; default: all but loopback and container or VM bridges)"},
		&cli.BoolFlag{Name: "ipv4", Usage: "use IPv4 addresses only"},
		&cli.BoolFlag{Name: "ipv6", Usage: "use IPv6 addresses only"},
		&cli.BoolFlag{Name: "mdns", Usage: "hide our LAN addresses behind a random .local name, resolved by multicast DNS on the LAN"},
		&cli.DurationFlag{Name: "connect-timeout", Value: peer.DefaultConnectTimeout, Usage: "how long to wait for the connection once the answer is in"},
		&cli.DurationFlag{Name: "reconnect-wait", Usage: "once the connection counts as lost, keep waiting this long for it to come back or for a reconnect blob (default: 10m for a chat at a terminal, else 0: end at once)"},
		&cli.BoolFlag{Name: "verify", Usage: "ask to confirm the verification code with the other side before any data flows"},
		&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "log what the connection does"},
	}
}

// sessionOptions builds peer options from the session flags.
func sessionOptions(c *cli.Context, s *streams) (peer.Options, error) {
	opts := peer.Options{
		Interfaces:     c.StringSlice("interface"),
		IPv4Only:       c.Bool("ipv4"),
		IPv6Only:       c.Bool("ipv6"),
		MDNS:           c.Bool("mdns"),
		ConnectTimeout: c.Duration("connect-timeout"),
	}
	switch f := c.String("format"); f {
	case "", "pigeon", "json":
	default:
		return opts, usageErrorf("--format %s: expected pigeon or json", f)
	}
	if opts.IPv4Only && opts.IPv6Only {
		return opts, usageErrorf("--ipv4 and --ipv6 exclude each other: give one, or neither for both")
	}
	opts.ReconnectWait = c.Duration("reconnect-wait")
	if opts.ReconnectWait < 0 {
		return opts, usageErrorf("--reconnect-wait must not be negative, not %s", opts.ReconnectWait)
	}
	if opts.ConnectTimeout <= 0 {
		return opts, usageErrorf("--connect-timeout must be positive, not %s", c.Duration("connect-timeout"))
	}
	for _, name := range opts.Interfaces {
		if _, err := net.InterfaceByName(name); err != nil {
			return opts, usageErrorf("--interface %s: no such network interface", name)
		}
	}
	for _, u := range c.StringSlice("stun") {
		srv, err := iceServer(u, "stun", "", "")
		if err != nil {
			return opts, err
		}
		opts.ICEServers = append(opts.ICEServers, srv)
	}
	if c.String("turn-pass") != "" && c.String("turn-user") == "" {
		return opts, usageErrorf("--turn-pass needs --turn-user (or PIGEON_TURN_USER) too")
	}
	for _, u := range c.StringSlice("turn") {
		srv, err := iceServer(u, "turn", c.String("turn-user"), c.String("turn-pass"))
		if err != nil {
			return opts, err
		}
		opts.ICEServers = append(opts.ICEServers, srv)
	}
	if c.Bool("verbose") {
		opts.LoggerFactory = &logging.DefaultLoggerFactory{Writer: s.errOut, DefaultLogLevel: logging.LogLevelInfo}
	}
	return opts, nil
}

// iceServer parses a --stun or --turn URL. TURN credentials come from the
// URL (turn:USER:PASS@HOST), or else are user and pass (--turn-user and
// --turn-pass, or PIGEON_TURN_USER and PIGEON_TURN_PASS).
func iceServer(raw, flag, user, pass string) (webrtc.ICEServer, error) {
	bad := func(why string) error {
		return usageErrorf("--%s %q: %s (expected %s:HOST:PORT)", flag, raw, why, flag)
	}
	scheme, rest, ok := strings.Cut(raw, ":")
	if !ok {
		return webrtc.ICEServer{}, bad("not a URL")
	}
	// The host has no "@", the password may: userinfo ends at the last one.
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		user, pass, _ = strings.Cut(rest[:at], ":")
		rest = rest[at+1:]
	}
	u, err := stun.ParseURI(scheme + ":" + rest)
	if err != nil {
		return webrtc.ICEServer{}, bad(err.Error())
	}
	isTURN := u.Scheme == stun.SchemeTypeTURN || u.Scheme == stun.SchemeTypeTURNS
	if isTURN != (flag == "turn") {
		return webrtc.ICEServer{}, bad("wrong scheme " + scheme)
	}
	srv := webrtc.ICEServer{URLs: []string{scheme + ":" + rest}}
	if isTURN {
		if user == "" {
			return webrtc.ICEServer{}, bad("no credentials: give turn:USER:PASS@HOST:PORT, or --turn-user and --turn-pass (PIGEON_TURN_USER and PIGEON_TURN_PASS)")
		}
		srv.Username, srv.Credential = user, pass
	}
	return srv, nil
}

func durationText(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	default:
		return d.Round(100 * time.Millisecond).String()
	}
}

// sizePattern is a size as parseSize reads it, uppercased.
var sizePattern = regexp.MustCompile(`^([0-9]+(?:\.[0-9]*)?) ?(?:([KMGT])I?)?B?$`)

// parseSize reads a size for a flag: bytes, or a number with K, M, G or T
// (powers of 1024; "KiB", "MB" and lowercase are read the same), e.g. 500M
// or 1.5G.
func parseSize(flag, text string) (int64, error) {
	m := sizePattern.FindStringSubmatch(strings.ToUpper(strings.TrimSpace(text)))
	if m == nil {
		return 0, usageErrorf("--%s %s: not a size; write it as bytes or with K, M, G or T, e.g. 500M or 2G", flag, text)
	}
	f, _ := strconv.ParseFloat(m[1], 64)
	if m[2] != "" {
		f *= float64(int64(1) << (10 * (1 + strings.Index("KMGT", m[2]))))
	}
	if f >= math.MaxInt64 {
		return 0, usageErrorf("--%s %s: too large", flag, text)
	}
	return int64(f), nil
}
