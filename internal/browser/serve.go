package browser

import (
	_ "embed"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

//go:embed tutorial.html
var tutorialPage []byte

// TutorialURL serves tutorial.html on 127.0.0.1 until the test ends, and
// returns its address. The server serves the page only: it carries no
// signaling, which the test does by copying the descriptions.
func TutorialURL(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(tutorialPage)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

// TutorialFile writes tutorial.html into the test's temporary folder and
// returns its file:// URL, for a browser that cannot reach this machine's
// loopback ([StartIn]).
func TutorialFile(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tutorial.html")
	if err := os.WriteFile(path, tutorialPage, 0o644); err != nil {
		t.Fatal(err)
	}
	return "file://" + path
}

// killGroup kills what is left of the process group pid leads.
func killGroup(pid int) {
	_ = syscall.Kill(-pid, syscall.SIGKILL)
}
