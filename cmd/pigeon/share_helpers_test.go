package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// Helpers of the share scripts (testdata/share.txt); registered in
// TestMain and TestScripts.

// httpBody is what httpserve sends.
const httpBody = "hello through pigeon share\n"

// httpserveMain implements "httpserve ADDRFILE": an HTTP server on a free
// loopback port that answers every request with httpBody; it writes its
// address to ADDRFILE (atomically) once it listens.
func httpserveMain() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: httpserve ADDRFILE")
		os.Exit(2)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tmp := os.Args[1] + ".tmp"
	if err := os.WriteFile(tmp, []byte(ln.Addr().String()+"\n"), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.Rename(tmp, os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, httpBody)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	fmt.Fprintln(os.Stderr, srv.Serve(ln))
	os.Exit(1)
}

// httpgetMain implements "httpget URL": prints the body of a GET, or fails
// unless the status is 200.
func httpgetMain() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: httpget URL")
		os.Exit(2)
	}
	client := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 20 * time.Second}
	resp, err := client.Get(os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "httpget: %v\n", err)
		os.Exit(1)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(os.Stdout, resp.Body); err != nil {
		fmt.Fprintf(os.Stderr, "httpget: %v\n", err)
		os.Exit(1)
	}
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(os.Stderr, "httpget: %s\n", resp.Status)
		os.Exit(1)
	}
}

// stderrtoMain implements "stderrto FILE CMD ARG...": runs CMD with its
// standard error written to FILE, so that a script can read it while CMD
// runs in the background; interrupts are passed on, and CMD is killed
// after 60 s.
func stderrtoMain() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: stderrto FILE CMD [ARG...]")
		os.Exit(2)
	}
	f, err := os.Create(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cmd := exec.Command(os.Args[2], os.Args[3:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, f
	code := runBounded(cmd, 60*time.Second)
	f.Close()
	os.Exit(code)
}

// cmdWaitmatch implements "waitmatch FILE REGEXP VAR": waits until a line
// of FILE matches REGEXP, then sets $VAR to its first group.
func cmdWaitmatch(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! waitmatch")
	}
	if len(args) != 3 {
		ts.Fatalf("usage: waitmatch FILE REGEXP VAR")
	}
	re, err := regexp.Compile(args[1])
	if err != nil {
		ts.Fatalf("waitmatch: %v", err)
	}
	if re.NumSubexp() < 1 {
		ts.Fatalf("waitmatch: %s has no group", args[1])
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if f, err := os.Open(ts.MkAbs(args[0])); err == nil {
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				if m := re.FindStringSubmatch(sc.Text()); m != nil {
					f.Close()
					ts.Setenv(args[2], m[1])
					return
				}
			}
			f.Close()
		}
		if time.Now().After(deadline) {
			data, _ := os.ReadFile(ts.MkAbs(args[0]))
			ts.Fatalf("waitmatch: no line of %s matches %s after 20 s; it holds:\n%s", args[0], args[1], data)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
