package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"pigeon/transfer"
	"pigeon/web"
)

func webCommand(s *streams) *cli.Command {
	return &cli.Command{
		Name:  "web",
		Usage: "serve pigeon's page, for a computer or phone without pigeon",
		Description: "The page is a whole pigeon peer in the browser: it makes and reads blobs,\n" +
			"draws and scans QR codes, and runs chat and file transfers with pigeon on the\n" +
			"other side, or with the page on another device. Blobs still travel by hand:\n" +
			"the server only serves the page, and takes no part in a session.\n\n" +
			"By default pigeon serves it on 127.0.0.1 and opens the browser; the URL goes\n" +
			"to standard output. --listen serves it to other devices (a phone on the same\n" +
			"Wi-Fi) and draws the URL as a QR code. --save writes the page as one HTML file\n" +
			"that works offline, from file:// too. Ctrl-C stops the server.\n\n" +
			"   pigeon web\n" +
			"   pigeon web --listen 0.0.0.0:8080\n" +
			"   pigeon web --save pigeon.html",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Value: "127.0.0.1:0", DefaultText: "127.0.0.1, a free port", Usage: "serve the page on `ADDR` (host:port)"},
			&cli.BoolFlag{Name: "no-open", Usage: "print the URL without opening a browser"},
			&cli.StringFlag{Name: "save", Usage: "write the page to `FILE` and exit"},
		},
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return usageErrorf("web takes no arguments (got %q)", c.Args().First())
			}
			page, err := web.Page()
			if err != nil {
				return err
			}
			if path := c.String("save"); path != "" {
				if c.IsSet("listen") || c.IsSet("no-open") {
					return usageErrorf("--save writes the page and exits: it takes neither --listen nor --no-open")
				}
				if err := saveNew(path, page); err != nil {
					return err
				}
				fmt.Fprintf(s.errOut, "pigeon: wrote the page to %s (%s): open it in any browser, no network needed\n", path, transfer.FormatSize(int64(len(page))))
				return nil
			}
			return serveWeb(c.Context, s, c.String("listen"), !c.Bool("no-open") && !c.IsSet("listen"), page)
		},
	}
}

// saveNew writes data to path, which must not exist: it is written under
// a temporary name in the same folder and linked into place, so that no
// partial file ever has the final name and nothing is overwritten.
func saveNew(path string, data []byte) error {
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%s already exists: give another name, or remove it first", path)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".pigeon-page-*")
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, unwrapPathErr(err))
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("cannot write %s: %w", path, unwrapPathErr(err))
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, unwrapPathErr(err))
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s already exists: give another name, or remove it first", path)
		}
		return fmt.Errorf("cannot write %s: %w", path, unwrapPathErr(err))
	}
	return nil
}

func unwrapPathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// serveWeb serves the page at / until ctx ends.
func serveWeb(ctx context.Context, s *streams, addr string, open bool, page []byte) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("cannot serve the page on %s: %w", addr, err)
	}
	url := pageURL(ln.Addr().(*net.TCPAddr))
	srv := &http.Server{
		Handler:           pageHandler(page),
		ReadHeaderTimeout: 10 * time.Second,
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()

	fmt.Fprintln(s.out, url)
	tcp := ln.Addr().(*net.TCPAddr)
	if !tcp.IP.IsLoopback() {
		fmt.Fprintf(s.errOut, "pigeon: the page is served to this network at %s; open it on the other device, or scan this:\n", url)
		if err := drawQR(s.errOut, url); err != nil {
			fmt.Fprintf(s.errOut, "pigeon: %v\n", err)
		}
		fmt.Fprintln(s.errOut, "pigeon: over plain http a phone's browser gives the page no camera: read the QR code from a photo, or paste the blob")
	} else {
		fmt.Fprintf(s.errOut, "pigeon: the page is at %s\n", url)
	}
	if open {
		if err := openBrowser(url); err != nil {
			fmt.Fprintf(s.errOut, "pigeon: no browser was opened (%v): open %s yourself\n", err, url)
		}
	}
	fmt.Fprintln(s.errOut, "pigeon: press Ctrl-C to stop serving it")
	select {
	case err := <-done:
		return fmt.Errorf("serving the page: %w", err)
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = srv.Shutdown(shut)
	return nil
}

// pageURL is the URL other devices open: for an unspecified address, at
// one of this computer's own addresses.
func pageURL(a *net.TCPAddr) string {
	ip := a.IP
	if ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
		if lan := lanAddress(); lan != nil {
			ip = lan
		}
	}
	return "http://" + net.JoinHostPort(ip.String(), strconv.Itoa(a.Port)) + "/"
}

// lanAddress is this computer's first global or private IPv4 address.
func lanAddress() net.IP {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP.To4()
		}
	}
	return nil
}

// pageHandler serves the page at / and nothing else.
func pageHandler(page []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "the page is only read", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		_, _ = w.Write(page)
	})
}

// openBrowser opens url in the default browser.
func openBrowser(url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
			return errors.New("no graphical session")
		}
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { _ = cmd.Wait() }()
	return nil
}
