// Package testenv says what a test does when the machine lacks what it
// needs: it skips, with the reason and what to install, except under
// CI=true, where every test must run and a missing tool is a failure
// (.ci/run installs them all), so a broken install step cannot hide a
// test.
package testenv

import (
	"fmt"
	"os"
	"testing"
)

// Unavailable skips t, or fails it under CI=true, saying why.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	why := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true, and this test cannot run here: %s", why)
	}
	t.Skip(why)
}
