package peer

import (
	"testing"
	"time"
)

// TestPathSetupAndWait: both sides report how long the connection took to
// open once its attempt began on that side, and apart from it how long the
// answer took to arrive (the person carrying it). The answerer learns when
// the attempt began from the offerer's first check.
func TestPathSetupAndWait(t *testing.T) {
	ctx := testContext(t, 20*time.Second)
	offerer, answerer := newPair(t, ctx, Options{}, Options{})
	const carried = time.Second
	time.Sleep(carried)
	if err := offerer.Accept(carry(t, answerer.Local())); err != nil {
		t.Fatalf("Accept: %v", err)
	}
	connectPair(t, ctx, offerer, answerer)
	for name, p := range map[string]*Peer{"offerer": offerer, "answerer": answerer} {
		path, err := p.Path()
		if err != nil {
			t.Fatalf("%s Path: %v", name, err)
		}
		if path.Waited < carried {
			t.Errorf("%s: the answer took %v to arrive, want at least the %v it was carried", name, path.Waited, carried)
		}
		if path.Setup <= 0 || path.Setup >= carried {
			t.Errorf("%s: open in %v, want more than 0 and less than the %v the answer was carried", name, path.Setup, carried)
		}
	}
}
