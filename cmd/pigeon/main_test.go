package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/png"
	"io"
	mrand "math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"pigeon/internal/netlab"
	"pigeon/sdpcodec"
)

// The scripts in testdata/*.txt run pigeon as a person meets it: real
// processes, real files, real connections over this machine's interfaces.
// Besides pigeon they can run these helper programs:
//
//	testblob ...            crafts blobs (see testblobMain)
//	timeout DUR CMD ARG...  runs CMD, killing it after DUR (exit 124); a
//	                        portable stand-in for coreutils timeout that
//	                        bounds every background process
//	feed [-hold] FILE... -- CMD ...
//	                        runs CMD with the contents of the FILEs on its
//	                        standard input, each written once it exists;
//	                        with -hold the input stays open (a person who
//	                        has not pressed Ctrl-D) until CMD exits
//	turnserver [-cert FILE -key FILE] ADDR USER PASS
//	                        a STUN/TURN server for the network tests,
//	                        with -cert and -key over TLS
//	                        (netlab.TURNServerMain)
//	stunprobe SERVER...     asks STUN servers for our mapped address
//	                        (netlab.STUNProbeMain)
//	httpserve ADDRFILE      an HTTP server on a free loopback port that
//	                        answers every request with a fixed body; it
//	                        writes its address to ADDRFILE
//	httpget URL             prints the body of a GET (fails unless 200)
//	stderrto FILE CMD ARG...
//	                        runs CMD with its standard error written to
//	                        FILE, to be read while CMD runs in the
//	                        background (see share_helpers_test.go)
//
// and these script commands:
//
//	exitcode N CMD ARG...   runs CMD like exec and fails unless it exits
//	                        with status N (exec only tells 0 from non-zero)
//	waitmatch FILE REGEXP VAR
//	                        waits until a line of FILE matches REGEXP and
//	                        sets $VAR to its first group
//
// $vector_NAME holds the blob of the sdpcodec test vector
// sdpcodec/testdata/NAME.txt (the text after its header), to pass as an
// argument; "testblob vector NAME" prints it. Scripts use the vectors
// rather than literal blobs so that they follow the format as it changes.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"pigeon": func() {
			os.Exit(run(context.Background(), os.Args, os.Stdin, os.Stdout, os.Stderr))
		},
		"testblob": testblobMain,
		"timeout":  timeoutMain,
		"feed":     feedMain,
		// The network tests (network_test.go) run these in namespaces.
		"turnserver": netlab.TURNServerMain,
		"stunprobe":  netlab.STUNProbeMain,
		// The share scripts (share_helpers_test.go).
		"httpserve": httpserveMain,
		"httpget":   httpgetMain,
		"stderrto":  stderrtoMain,
	})
}

// scriptBudget bounds the whole suite (about a minute on an idle 2-core
// machine, twice that with both cores busy): a script that hangs fails with
// "test timed out" instead of stalling until go test's own timeout.
const scriptBudget = 240 * time.Second

func TestScripts(t *testing.T) {
	scripts, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(scripts) == 0 {
		t.Fatal("no scripts found in testdata/*.txt")
	}
	vectorDir, err := filepath.Abs(filepath.Join("..", "..", "sdpcodec", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	vectors, err := loadVectors(vectorDir)
	if err != nil {
		t.Fatal(err)
	}
	checkVectorNames(t, scripts, vectors)
	deadline := time.Now().Add(scriptBudget)
	if d, ok := t.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata",
		RequireExplicitExec: true,
		Deadline:            deadline,
		Setup: func(env *testscript.Env) error {
			env.Setenv("VECTORS", vectorDir)
			// A program built with -race sleeps a second as it exits,
			// unless told otherwise: the scripts run hundreds of them.
			gorace := os.Getenv("GORACE")
			if !strings.Contains(gorace, "atexit_sleep_ms") {
				gorace = strings.TrimSpace(gorace + " atexit_sleep_ms=0")
			}
			env.Setenv("GORACE", gorace)
			for name, body := range vectors {
				env.Setenv("vector_"+name, body)
			}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode":  cmdExitcode,
			"waitmatch": cmdWaitmatch,
		},
	})
}

// loadVectors reads the bodies of the sdpcodec test vectors, by name
// without ".txt". It fails when it finds none, so that scripts never run
// against vectors that quietly moved away.
func loadVectors(dir string) (map[string]string, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no test vectors found in %s", dir)
	}
	vectors := map[string]string{}
	for _, p := range paths {
		body, err := vectorBody(p)
		if err != nil {
			return nil, err
		}
		vectors[strings.TrimSuffix(filepath.Base(p), ".txt")] = body
	}
	return vectors, nil
}

// vectorRef finds the vectors a script names: $vector_NAME or
// "testblob vector NAME".
var vectorRef = regexp.MustCompile(`\$vector_(\w+)|testblob vector (\w+)`)

// checkVectorNames fails the test when a script names a vector that does
// not exist: an unset $vector_NAME would quietly expand to nothing.
func checkVectorNames(t *testing.T, scripts []string, vectors map[string]string) {
	t.Helper()
	for _, script := range scripts {
		data, err := os.ReadFile(script)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range vectorRef.FindAllStringSubmatch(string(data), -1) {
			if name := m[1] + m[2]; vectors[name] == "" {
				t.Errorf("%s: there is no test vector %s in sdpcodec/testdata", script, name)
			}
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

// vectorBody returns what follows the header of a vector file: the text
// after the first empty line.
func vectorBody(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	_, body, ok := strings.Cut(string(data), "\n\n")
	if !ok {
		return "", fmt.Errorf("%s: no empty line after the header", path)
	}
	return body, nil
}

// cmdExitcode implements "exitcode N CMD ARG...".
func cmdExitcode(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! exitcode")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: exitcode N CMD [ARG...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: %v", err)
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exitcode: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}

// testblobMain crafts blobs for the scripts, with the sdpcodec API only.
// Every candidate it writes is a loopback address: a test never sends
// traffic anywhere else.
//
//	testblob vector NAME
//		prints the body of sdpcodec/testdata/NAME.txt
//	testblob offer [-app APP] [ADDR:PORT]
//		prints an offer (default app chat) with a random fingerprint and one
//		host candidate (default 127.0.0.1:9, the discard port)
//	testblob answer [-other] [-o FILE] OFFERFILE [ADDR:PORT]
//		waits until OFFERFILE holds an offer, then prints an answer to it
//		(with -other, to another offer) with a random fingerprint and one
//		host candidate; -o writes it to FILE instead, atomically
//	testblob copy-when SRC DST LOG TEXT
//		copies SRC to DST once the file LOG holds TEXT
//	testblob wait FILE
//		waits until FILE holds a blob
//	testblob random FILE MIB
//		writes MIB mebibytes of pseudo-random bytes to FILE
//	testblob sparse FILE TIB
//		makes FILE a sparse file of TIB tebibytes, which takes no space
//	testblob sha256 FILE
//		prints the SHA-256 of FILE
//	testblob blank-png FILE
//		writes a grey PNG with no QR code in it
//	testblob ls
//		lists the current directory, dot files too, one name a line
//	testblob cat FILE...
//		prints the FILEs one after the other
func testblobMain() {
	if err := testblob(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "testblob: %v\n", err)
		os.Exit(1)
	}
}

func testblob(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: testblob vector|offer|answer|delayed-copy|wait|ls ...")
	}
	fs := flag.NewFlagSet("testblob "+args[0], flag.ContinueOnError)
	app := fs.String("app", "chat", "app of the offer: chat, send, pipe or share")
	other := fs.Bool("other", false, "answer another offer than OFFERFILE's")
	out := fs.String("o", "", "write the blob to `FILE`")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	rest := fs.Args()
	switch args[0] {
	case "vector":
		if len(rest) != 1 {
			return errors.New("usage: testblob vector NAME")
		}
		body, err := vectorBody(filepath.Join(os.Getenv("VECTORS"), rest[0]+".txt"))
		if err != nil {
			return err
		}
		_, err = os.Stdout.WriteString(body)
		return err
	case "offer":
		b := &sdpcodec.Blob{Kind: sdpcodec.Offer}
		for a := sdpcodec.App(1); a <= 15; a++ {
			if a.String() == *app {
				b.App = a
			}
		}
		if b.App == 0 {
			return fmt.Errorf("unknown app %q", *app)
		}
		return finishBlob(b, rest, *out)
	case "answer":
		if len(rest) < 1 {
			return errors.New("usage: testblob answer [-other] [-o FILE] OFFERFILE [ADDR:PORT]")
		}
		offer, err := waitForBlob(rest[0], 20*time.Second)
		if err != nil {
			return err
		}
		if offer.Kind != sdpcodec.Offer {
			return fmt.Errorf("%s holds an %s, not an offer", rest[0], offer.Kind)
		}
		b := &sdpcodec.Blob{Kind: sdpcodec.Answer, Binding: sdpcodec.BindingOf(offer)}
		if *other {
			b.Binding ^= 1
		}
		return finishBlob(b, rest[1:], *out)
	case "copy-when":
		if len(rest) != 4 {
			return errors.New("usage: testblob copy-when SRC DST LOG TEXT")
		}
		data, err := os.ReadFile(rest[0])
		if err != nil {
			return err
		}
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			if log, _ := os.ReadFile(rest[2]); strings.Contains(string(log), rest[3]) {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s never said %q", rest[2], rest[3])
			}
		}
		return os.WriteFile(rest[1], data, 0o644)
	case "wait":
		if len(rest) != 1 {
			return errors.New("usage: testblob wait FILE")
		}
		_, err := waitForBlob(rest[0], 20*time.Second)
		return err
	case "random":
		if len(rest) != 2 {
			return errors.New("usage: testblob random FILE MIB")
		}
		mib, err := strconv.Atoi(rest[1])
		if err != nil {
			return err
		}
		f, err := os.Create(rest[0])
		if err != nil {
			return err
		}
		r := mrand.New(mrand.NewPCG(uint64(mib), 1))
		buf := make([]byte, 1<<20)
		for range mib {
			for i := range buf {
				buf[i] = byte(r.Uint32())
			}
			if _, err := f.Write(buf); err != nil {
				f.Close()
				return err
			}
		}
		return f.Close()
	case "sparse":
		if len(rest) != 2 {
			return errors.New("usage: testblob sparse FILE TIB")
		}
		tib, err := strconv.Atoi(rest[1])
		if err != nil {
			return err
		}
		f, err := os.Create(rest[0])
		if err != nil {
			return err
		}
		if err := f.Truncate(int64(tib) << 40); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	case "sha256":
		if len(rest) != 1 {
			return errors.New("usage: testblob sha256 FILE")
		}
		f, err := os.Open(rest[0])
		if err != nil {
			return err
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return err
		}
		fmt.Printf("%x\n", h.Sum(nil))
		return nil
	case "blank-png":
		if len(rest) != 1 {
			return errors.New("usage: testblob blank-png FILE")
		}
		img := image.NewGray(image.Rect(0, 0, 200, 120))
		for i := range img.Pix {
			img.Pix[i] = 0xEE
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			return err
		}
		return os.WriteFile(rest[0], buf.Bytes(), 0o644)
	case "cat":
		for _, name := range rest {
			data, err := os.ReadFile(name)
			if err != nil {
				return err
			}
			if _, err := os.Stdout.Write(data); err != nil {
				return err
			}
		}
		return nil
	case "ls":
		entries, err := os.ReadDir(".")
		if err != nil {
			return err
		}
		for _, e := range entries {
			fmt.Println(e.Name())
		}
		return nil
	}
	return fmt.Errorf("unknown subcommand %q", args[0])
}

// finishBlob gives b a random fingerprint and a loopback host candidate
// (args: optional ADDR:PORT) and prints it or writes it to out.
func finishBlob(b *sdpcodec.Blob, args []string, out string) error {
	addr := netip.MustParseAddrPort("127.0.0.1:9")
	switch len(args) {
	case 0:
	case 1:
		var err error
		if addr, err = netip.ParseAddrPort(args[0]); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unexpected arguments %q", args[1:])
	}
	text, err := encodeTestBlob(b, addr)
	if err != nil {
		return err
	}
	if out == "" {
		_, err = fmt.Println(text)
		return err
	}
	tmp := out + ".testblob"
	if err := os.WriteFile(tmp, []byte(text+"\n"), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}

// encodeTestBlob gives b a random fingerprint and one host candidate at
// addr, which must be a loopback address, and encodes it.
func encodeTestBlob(b *sdpcodec.Blob, addr netip.AddrPort) (string, error) {
	if !addr.Addr().IsLoopback() {
		return "", fmt.Errorf("%s is not a loopback address: tests send no traffic elsewhere", addr)
	}
	rand.Read(b.Fingerprint[:])
	b.Candidates = []sdpcodec.Candidate{{Type: sdpcodec.Host, Transport: sdpcodec.UDP, Addr: addr.Addr(), Port: addr.Port()}}
	return b.Encode()
}

// waitForBlob waits until path holds a blob, for at most d.
func waitForBlob(path string, d time.Duration) (*sdpcodec.Blob, error) {
	deadline := time.Now().Add(d)
	for {
		data, err := os.ReadFile(path)
		if err == nil {
			b, perr := sdpcodec.Parse(string(data))
			if perr == nil {
				return b, nil
			}
			err = perr
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("no blob in %s after %s: %w", path, d, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// timeoutMain implements "timeout DUR CMD ARG...".
func timeoutMain() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: timeout DURATION CMD [ARG...]")
		os.Exit(2)
	}
	d, err := time.ParseDuration(os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "timeout: %v\n", err)
		os.Exit(2)
	}
	cmd := exec.Command(os.Args[2], os.Args[3:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	os.Exit(runBounded(cmd, d))
}

// feedMain implements "feed [-hold] FILE... -- CMD ARG...".
func feedMain() {
	args := os.Args[1:]
	hold := len(args) > 0 && args[0] == "-hold"
	if hold {
		args = args[1:]
	}
	sep := -1
	for i, a := range args {
		if a == "--" {
			sep = i
			break
		}
	}
	if sep < 0 || sep == len(args)-1 {
		fmt.Fprintln(os.Stderr, "usage: feed [-hold] FILE... -- CMD [ARG...]")
		os.Exit(2)
	}
	files, argv := args[:sep], args[sep+1:]
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	w, err := cmd.StdinPipe()
	if err != nil {
		fmt.Fprintf(os.Stderr, "feed: %v\n", err)
		os.Exit(1)
	}
	go func() {
		if !hold {
			defer w.Close()
		}
		// Each file is written once it exists and is not empty, the next
		// ones right after it: as a person pasting several things at once.
		for _, f := range files {
			deadline := time.Now().Add(20 * time.Second)
			data, err := os.ReadFile(f)
			for (err != nil || len(data) == 0) && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
				data, err = os.ReadFile(f)
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "feed: %v\n", err)
				return
			}
			if _, err := w.Write(data); err != nil {
				return
			}
		}
	}()
	os.Exit(runBounded(cmd, 60*time.Second))
}

// runBounded runs cmd, passing on interrupts, and kills it after d. It
// returns cmd's exit status, or 124 if it was killed.
func runBounded(cmd *exec.Cmd, d time.Duration) int {
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 127
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	timer := time.NewTimer(d)
	for {
		select {
		case err := <-done:
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return ee.ExitCode()
			} else if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			return 0
		case s := <-sigs:
			_ = cmd.Process.Signal(s)
		case <-timer.C:
			_ = cmd.Process.Kill()
			<-done
			fmt.Fprintf(os.Stderr, "timeout: %s did not end within %s\n", strings.Join(cmd.Args, " "), d)
			return 124
		}
	}
}
