package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pigeon/internal/browser"
	"pigeon/internal/testenv"
	"pigeon/sdpcodec"
)

// golden is what Go makes of each vector, for the JS codec's tests to
// compare with (page/test/sdpcodec.test.js).
type golden struct {
	Vectors map[string]goldenVector `json:"vectors"`
	Codes   []goldenCode            `json:"codes"`
	// Open is an open offer, which the page refuses.
	Open string `json:"open"`
}

type goldenVector struct {
	Error      string `json:"error,omitempty"`
	SDP        string `json:"sdp,omitempty"`
	Candidates string `json:"candidates"`
}

type goldenCode struct {
	Offer   string `json:"offer"`
	Answer  string `json:"answer"`
	Code    string `json:"code"`
	Binding uint16 `json:"binding"`
}

func writeGolden(t *testing.T, vectors string) string {
	t.Helper()
	g := golden{Vectors: map[string]goldenVector{}}
	paths, err := filepath.Glob(filepath.Join(vectors, "*.txt"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no vectors in %s: %v", vectors, err)
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		_, body, ok := strings.Cut(string(data), "\n\n")
		if !ok {
			t.Fatalf("%s has no header", p)
		}
		var v goldenVector
		b, err := sdpcodec.Parse(body)
		if err != nil {
			v.Error = err.Error()
		} else {
			var cs []string
			for _, c := range b.Candidates {
				cs = append(cs, c.String())
			}
			v.Candidates = strings.Join(cs, ", ")
			if b.Kind != sdpcodec.Reconnect {
				v.SDP = b.SDP()
			}
		}
		g.Vectors[strings.TrimSuffix(filepath.Base(p), ".txt")] = v
	}
	for i := range 20 {
		offer := sha256.Sum256(fmt.Appendf(nil, "offer %d", i))
		answer := sha256.Sum256(fmt.Appendf(nil, "answer %d", i))
		g.Codes = append(g.Codes, goldenCode{
			Offer:   hex.EncodeToString(offer[:]),
			Answer:  hex.EncodeToString(answer[:]),
			Code:    sdpcodec.VerificationCode(offer, answer),
			Binding: sdpcodec.BindingOf(&sdpcodec.Blob{Fingerprint: offer}),
		})
	}
	open := &sdpcodec.Blob{Kind: sdpcodec.Offer, App: sdpcodec.AppChat, Fingerprint: sha256.Sum256([]byte("open")),
		Open:       &sdpcodec.Open{Secret: [sdpcodec.SecretLen]byte{1, 2, 3}, Expires: time.Unix(30_000_000*60, 0)},
		Candidates: []sdpcodec.Candidate{{Type: sdpcodec.Host, Addr: netip.MustParseAddr("192.168.1.23"), Port: 54321}}}
	if g.Open, err = open.Encode(); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "golden.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCodecJS runs the page's codec tests in Node's test runner: every
// vector of sdpcodec/testdata, each compared with what Go makes of it.
func TestCodecJS(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Unavailable(t, "node is not installed (no node on $PATH): on Debian, apt-get install nodejs")
	}
	vectors, err := filepath.Abs(filepath.Join("..", "sdpcodec", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, "--test", "--test-reporter=spec", filepath.Join("page", "test"))
	cmd.Env = append(os.Environ(), "PIGEON_GOLDEN="+writeGolden(t, vectors), "PIGEON_VECTORS="+vectors)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	if err != nil {
		t.Fatalf("node --test: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "vector offer_ipv4_host") || !strings.Contains(out.String(), "an open offer is refused") || strings.Contains(out.String(), "skipped 1") {
		t.Fatalf("the JS tests did not run every vector against Go's:\n%s", out.String())
	}
}

// The page is one file: every script inlined, nothing fetched.
func TestPageIsOneFile(t *testing.T) {
	page, err := Page()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`<script src=`, `<link `, `src="http`, `href="http`, `fetch(`, `XMLHttpRequest`, `new WebSocket`} {
		if bytes.Contains(page, []byte(s)) {
			t.Errorf("the page holds %q: it would fetch something", s)
		}
	}
	for _, s := range []string{"/* sdpcodec.js */", "/* pigeon.js */", "/* vendor/jsQR.js */", `connect-src blob:`} {
		if !bytes.Contains(page, []byte(s)) {
			t.Errorf("the page lacks %q", s)
		}
	}
}

// TestCodecInBrowsers runs the vectors through the codec in the page
// itself, in Chromium and Firefox: each error word for word as Go's, each
// blob re-encoded to its text and rebuilt to Go's SDP.
func TestCodecInBrowsers(t *testing.T) {
	vectors, err := filepath.Abs(filepath.Join("..", "sdpcodec", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	goldenJSON, err := os.ReadFile(writeGolden(t, vectors))
	if err != nil {
		t.Fatal(err)
	}
	bodies := map[string]string{}
	paths, _ := filepath.Glob(filepath.Join(vectors, "*.txt"))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		_, body, _ := strings.Cut(string(data), "\n\n")
		bodies[strings.TrimSuffix(filepath.Base(p), ".txt")] = body
	}
	bodiesJSON, err := json.Marshal(bodies)
	if err != nil {
		t.Fatal(err)
	}
	page, err := Page()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(page)
	}))
	defer srv.Close()
	check := `((golden, bodies) => {
		const c = pigeonCodec, bad = [];
		let n = 0;
		for (const [name, body] of Object.entries(bodies)) {
			const g = golden.vectors[name];
			n++;
			try {
				const b = c.parse(body);
				if (g.error) { bad.push(name + ": parsed, Go says " + g.error); continue; }
				if (c.encode(b) !== c.clean(body)) bad.push(name + ": re-encoded differently");
				if (b.kind !== "reconnect" && c.toSDP(b) !== g.sdp) bad.push(name + ": another SDP");
			} catch (e) {
				if (e.message !== g.error) bad.push(name + ": " + e.message + ", Go says " + g.error);
			}
		}
		for (const k of golden.codes) {
			const hex = (s) => Uint8Array.from(s.match(/../g), (x) => parseInt(x, 16));
			if (c.verificationCode(hex(k.offer), hex(k.answer)) !== k.code) bad.push("verification code of " + k.offer);
		}
		return JSON.stringify({n, bad});
	})(` + string(goldenJSON) + `, ` + string(bodiesJSON) + `)`
	for _, name := range []string{browser.Chromium, browser.Firefox} {
		t.Run(name, func(t *testing.T) {
			p := browser.Start(t, name)
			p.Open(srv.URL)
			var got struct {
				N   int      `json:"n"`
				Bad []string `json:"bad"`
			}
			if err := json.Unmarshal([]byte(p.Eval(check)), &got); err != nil {
				t.Fatal(err)
			}
			if got.N != len(bodies) || got.N < 40 {
				t.Errorf("the page ran %d vectors of %d", got.N, len(bodies))
			}
			for _, b := range got.Bad {
				t.Error(b)
			}
		})
	}
}
