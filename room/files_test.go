package room

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"pigeon/transfer"
)

// waitKind waits for r's event of kind from member name, and returns it.
func (r *recorder) waitKind(t *testing.T, kind EventKind, name string) Event {
	t.Helper()
	var got Event
	r.wait(t, "event "+name, func(es []Event) bool {
		i := slices.IndexFunc(es, func(e Event) bool { return e.Kind == kind && e.Member.Name == name })
		if i >= 0 {
			got = es[i]
		}
		return i >= 0
	})
	return got
}

// tree writes files under a new folder and returns its path and contents.
func tree(t *testing.T, files map[string]int) (string, map[string][]byte) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "photos")
	want := map[string][]byte{}
	for name, size := range files {
		data := make([]byte, size)
		_, _ = rand.Read(data)
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		want[filepath.Join("photos", name)] = data
	}
	return dir, want
}

// into is a receiving folder, and what a Get into it needs.
func into(t *testing.T) (string, transfer.ReceiveOptions) {
	t.Helper()
	dir := t.TempDir()
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return dir, transfer.ReceiveOptions{Root: root}
}

func sameFiles(t *testing.T, who, dir string, want map[string][]byte) {
	t.Helper()
	for name, data := range want {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s: %s did not arrive whole (%v)", who, name, err)
		}
	}
}

// TestRoomFiles: a member offers a folder to the room; every other member
// hears the offer, in order with the lines; one gets it over the direct
// link, the host gets it over its own connection, one declines and the
// sender hears so. A guest gets a guest's file through the host too,
// which carries it; and the host's file reaches a guest. A member that
// joined after the offer, which it was not made to, gets nothing of it.
func TestRoomFiles(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tr := openRoom(t, ctx, "ann", "bob", "cat")
	tr.meshed(t)
	ann, bob, cat := tr.guests[0], tr.guests[1], tr.guests[2]
	src, want := tree(t, map[string]int{"a.jpg": 300 << 10, "trip/b.jpg": 2 << 20})
	entries, err := transfer.Scan([]string{src})
	if err != nil {
		t.Fatal(err)
	}
	ann.Say("before the photos")
	offered := ann.Offer(entries, "photos/")
	ann.Say("after the photos")
	if offered.Files != 2 || offered.Size != 300<<10+2<<20 {
		t.Fatalf("offered %+v", offered)
	}
	for i, r := range append([]*recorder{tr.hostEv}, tr.evs[1:]...) {
		e := r.waitKind(t, Offered, "ann")
		if e.File != offered {
			t.Errorf("member %d heard the offer %+v, want %+v", i, e.File, offered)
		}
		// The offer comes between the lines it was made between.
		r.wait(t, "ann's second line", func(es []Event) bool {
			return slices.ContainsFunc(es, func(e Event) bool { return e.Kind == Line && e.Text == "after the photos" })
		})
		var order []string
		for _, e := range r.all() {
			if e.Member.Name == "ann" && (e.Kind == Line || e.Kind == Offered) {
				order = append(order, e.Text+e.File.Name)
			}
		}
		if strings.Join(order, "|") != "before the photos|photos/|after the photos" {
			t.Errorf("member %d heard %q", i, order)
		}
	}

	bobDir, bobOpts := into(t)
	if err := bob.Get(ann.Me().ID, offered.ID, bobOpts); err != nil {
		t.Fatal(err)
	}
	hostDir, hostOpts := into(t)
	if err := tr.host.Get(ann.Me().ID, offered.ID, hostOpts); err != nil {
		t.Fatal(err)
	}
	if err := cat.Decline(ann.Me().ID, offered.ID); err != nil {
		t.Fatal(err)
	}
	if e := tr.evs[1].waitKind(t, Received, "ann"); e.Err != nil || e.Stats.Files != 2 {
		t.Fatalf("bob: %+v", e)
	}
	sameFiles(t, "bob", bobDir, want)
	if e := tr.hostEv.waitKind(t, Received, "ann"); e.Err != nil {
		t.Fatalf("host: %+v", e)
	}
	sameFiles(t, "host", hostDir, want)
	for _, name := range []string{"bob", "host"} {
		tr.evs[0].waitKind(t, Sending, name)
		if e := tr.evs[0].waitKind(t, Sent, name); e.Err != nil || e.File != offered {
			t.Errorf("ann's sending to %s: %+v", name, e)
		}
	}
	if e := tr.evs[0].waitKind(t, Declined, "cat"); e.File != offered {
		t.Errorf("ann heard cat decline %+v", e.File)
	}

	// cat changes its mind and gets it through the host, which carries
	// the transfer between two of its connections.
	catDir, catOpts := into(t)
	go cat.files.fetch(cat.hostP.OpenChannel, fileReq{Get: offered.ID, Of: ann.Me().ID, By: cat.Me().ID}, Member{ID: ann.Me().ID, Name: "ann"}, offered, catOpts)
	if e := tr.evs[2].waitKind(t, Received, "ann"); e.Err != nil {
		t.Fatalf("cat, through the host: %+v", e)
	}
	sameFiles(t, "cat", catDir, want)

	// The host's file.
	hostSrc, hostWant := tree(t, map[string]int{"menu.txt": 10 << 10})
	hostEntries, err := transfer.Scan([]string{hostSrc})
	if err != nil {
		t.Fatal(err)
	}
	menu := tr.host.Offer(hostEntries, "photos/")
	tr.evs[0].wait(t, "ann hears the host's offer", func(es []Event) bool {
		return slices.ContainsFunc(es, func(e Event) bool { return e.Kind == Offered && e.Member.ID == HostID })
	})
	annDir, annOpts := into(t)
	if err := ann.Get(HostID, menu.ID, annOpts); err != nil {
		t.Fatal(err)
	}
	if e := tr.evs[0].waitKind(t, Received, "host"); e.Err != nil {
		t.Fatalf("ann: %+v", e)
	}
	sameFiles(t, "ann", annDir, hostWant)

	// dan came after the offer: asking for it anyway, directly or through
	// the host, gets him nothing.
	if err := bob.Get(ann.Me().ID, 7, bobOpts); err != ErrNoSuchFile {
		t.Errorf("bob's Get of an offer never made: %v", err)
	}
	late := openRoomGuest(t, ctx, tr, "dan")
	dan, danEv := tr.guests[late], tr.evs[late]
	danDir, danOpts := into(t)
	go dan.files.fetch(dan.hostP.OpenChannel, fileReq{Get: offered.ID, Of: ann.Me().ID, By: dan.Me().ID}, Member{ID: ann.Me().ID, Name: "ann"}, offered, danOpts)
	e := danEv.waitKind(t, Received, "ann")
	if e.Err == nil || !strings.Contains(e.Err.Error(), "offered no file 1 to you") {
		t.Errorf("dan asking for a file not offered to him: %v", e.Err)
	}
	if names, _ := os.ReadDir(danDir); len(names) != 0 {
		t.Errorf("dan received %d entries", len(names))
	}
}
