// Package netlab builds small networks out of Linux network namespaces for
// tests: hosts, LANs, NAT routers and a public segment with a STUN/TURN
// server (also over TLS, with a certificate from a throwaway [CA]), so that
// real processes can be run on them and connect as they would across real
// networks.
//
// Every host, router and LAN is a network namespace of its own, joined to
// the others by veth pairs. Nothing is created in the namespace the test
// runs in, and no route leads out of the lab: traffic stays inside it.
// (Hosts that resolve names have a hosts file under /etc/netns, removed
// with them: see [Host.Resolve].) Namespaces are named after the test
// process (netlab-PID-N-NAME) and are deleted in t.Cleanup; [New] also
// deletes those left behind by test processes that no longer run.
//
// A lab needs root and the ip command, and iptables for routers; the test
// is skipped, with the reason, when one is missing. The STUN/TURN server and the STUN probe run as
// helper commands: register [TURNServerMain] and [STUNProbeMain] as
// "turnserver" and "stunprobe" with testscript.Main (or otherwise put them
// on $PATH under those names).
package netlab

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"pigeon/internal/testenv"
)

// namePrefix starts the name of every namespace a lab makes.
const namePrefix = "netlab-"

// etcNetns holds configuration files per namespace, which ip netns exec
// mounts over those in /etc (see [Host.Resolve]).
const etcNetns = "/etc/netns"

// labs counts the labs of this process, to keep their namespaces apart.
var labs atomic.Int64

// Lab is one test's network. Make one with [New].
type Lab struct {
	// Env is added to the environment of the commands the lab runs
	// ("NAME=value"); set it before running any.
	Env []string

	t      testing.TB
	prefix string // namespace names start with this

	mu    sync.Mutex
	names map[string]bool // short names in use
}

// New makes an empty lab for t. It skips t unless the test runs as root
// with the ip command (iproute2) installed. A lab with NAT routers or
// firewall rules also needs iptables: [Host.IPTables] skips t without it.
func New(t testing.TB) *Lab {
	t.Helper()
	if os.Geteuid() != 0 {
		testenv.Unavailable(t, "netlab: needs root to make network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		testenv.Unavailable(t, "netlab: needs the ip command (apt-get install iproute2)")
	}
	sweepOnce.Do(sweep)
	return &Lab{
		t:      t,
		prefix: fmt.Sprintf("%s%d-%d-", namePrefix, os.Getpid(), labs.Add(1)),
		names:  map[string]bool{},
	}
}

var sweepOnce sync.Once

// sweep deletes the namespaces of test processes that ended without
// cleaning up (killed by a test timeout, say).
func sweep() {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		rest, ok := strings.CutPrefix(name, namePrefix)
		if !ok {
			continue
		}
		pid, _, _ := strings.Cut(rest, "-")
		n, err := strconv.Atoi(pid)
		if err != nil || n == os.Getpid() {
			continue
		}
		if _, err := os.Stat("/proc/" + pid); err == nil {
			continue // that test process still runs
		}
		_ = exec.Command("ip", "netns", "del", name).Run()
		_ = os.RemoveAll(filepath.Join(etcNetns, name))
	}
}

// newNamespace makes a namespace for the short name (unique in the lab),
// with its loopback interface up, deleted when the test ends.
func (l *Lab) newNamespace(name string) string {
	l.t.Helper()
	l.mu.Lock()
	if l.names[name] {
		l.mu.Unlock()
		l.t.Fatalf("netlab: the name %q is already used in this lab", name)
	}
	l.names[name] = true
	l.mu.Unlock()
	ns := l.prefix + name
	l.ip("netns", "add", ns)
	l.t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
			l.t.Errorf("netlab: deleting namespace %s: %v: %s", ns, err, out)
		}
	})
	l.ip("-n", ns, "link", "set", "lo", "up")
	return ns
}

// ip runs the ip command and fails the test if it fails.
func (l *Lab) ip(args ...string) {
	l.t.Helper()
	l.run("ip", args...)
}

// run runs a command and fails the test if it fails.
func (l *Lab) run(name string, args ...string) string {
	l.t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		l.t.Fatalf("netlab: %s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}
