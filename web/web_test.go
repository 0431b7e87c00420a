package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"pigeon/internal/testenv"
	"pigeon/sdpcodec"
)

// golden is what Go makes of each vector, for the JS codec's tests to
// compare with (page/test/sdpcodec.test.js).
type golden struct {
	Vectors map[string]goldenVector `json:"vectors"`
	Codes   []goldenCode            `json:"codes"`
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
	if !strings.Contains(out.String(), "vector offer_ipv4_host") || strings.Contains(out.String(), "# skipped 1") {
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
