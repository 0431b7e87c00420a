package sdpcodec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// captured is a description a real program wrote, kept in
// testdata/foreign: header lines "key: value" (kind, program, format,
// comment), an empty line, then the text as the program showed it.
type captured struct {
	name   string
	header map[string]string
	text   string
}

// loadCaptured reads testdata/foreign, failing when it holds none: a
// folder that moved must not quietly take its tests with it.
func loadCaptured(t *testing.T) []captured {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "foreign", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no captured descriptions in testdata/foreign")
	}
	var out []captured
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		head, text, ok := strings.Cut(string(data), "\n\n")
		if !ok {
			t.Fatalf("%s: no empty line after the header", p)
		}
		c := captured{name: filepath.Base(p), header: map[string]string{}, text: text}
		for _, line := range strings.Split(head, "\n") {
			k, v, ok := strings.Cut(line, ": ")
			if !ok {
				t.Fatalf("%s: header line %q is not \"key: value\"", p, line)
			}
			c.header[k] = v
		}
		out = append(out, c)
	}
	return out
}

// TestCapturedDescriptions: what Chromium and Firefox really write, more
// than a blob's 1,024 characters, is recognised and read as another
// program's description, never as a pigeon's, and tells its program.
func TestCapturedDescriptions(t *testing.T) {
	programs := map[string]string{
		"chromium": "a browser built on libwebrtc (Chromium, Chrome, Edge, Safari)",
		"firefox":  "Firefox",
	}
	for _, c := range loadCaptured(t) {
		t.Run(c.name, func(t *testing.T) {
			if got := Recognize(c.text); got != FormatBase64JSON {
				t.Fatalf("Recognize = %v, want base64 JSON", got)
			}
			if _, err := Parse(c.text); err == nil {
				t.Fatal("read as a pigeon blob")
			}
			f, err := ParseForeign(c.text)
			if err != nil {
				t.Fatal(err)
			}
			if f.Kind.String() != c.header["kind"] || f.Format != FormatBase64JSON {
				t.Errorf("kind %s, format %s; the header says %s", f.Kind, f.Format, c.header["kind"])
			}
			if _, ok := f.Pigeon(); ok {
				t.Error("taken for a pigeon's description")
			}
			browser, _, _ := strings.Cut(c.name, "-")
			pr := f.Describe()
			if pr.Name != programs[browser] || pr.SCTPPort != 5000 || pr.MaxMessageSize == 0 {
				t.Errorf("Describe = %+v", pr)
			}
			s, err := f.Summary()
			if err != nil {
				t.Fatal(err)
			}
			mdns := 0
			for _, cand := range s.Candidates {
				if strings.HasSuffix(cand.Hostname, ".local") {
					mdns++
				}
			}
			if mdns == 0 {
				t.Errorf("no mDNS host candidate among %v: the browser's defaults hide its addresses", s.Candidates)
			}
			// Written back as base64 JSON, it reads the same.
			again, err := ParseForeign(Base64JSON(f.Kind, f.SDP))
			if err != nil || again.SDP != f.SDP {
				t.Errorf("written back: %v", err)
			}
		})
	}
}
