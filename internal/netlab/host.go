package netlab

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"pigeon/internal/testenv"
)

// Host is a computer of the lab: a network namespace with its loopback
// interface up and, until it is attached somewhere, nothing else.
type Host struct {
	lab  *Lab
	Name string // the short name the test gave it
	NS   string // the namespace's name, for ip netns exec
	// Env is added to the environment of the commands h starts with
	// [Host.Start] and [Host.Command], after the lab's Env ("NAME=value"):
	// SSL_CERT_FILE=[CA.File], say, for the programs of this host only.
	Env []string
}

// Host makes a host. name must be unique in the lab.
func (l *Lab) Host(name string) *Host {
	l.t.Helper()
	return &Host{lab: l, Name: name, NS: l.newNamespace(name)}
}

// Resolve makes the programs h runs resolve name to addr, through a hosts
// file of h's own (ip netns exec mounts /etc/netns/NS/hosts on /etc/hosts):
// the lab has no DNS server. Call it before starting those programs.
func (h *Host) Resolve(name string, addr netip.Addr) {
	t := h.lab.t
	t.Helper()
	dir := filepath.Join(etcNetns, h.NS)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("netlab: %v", err)
	}
	t.Cleanup(func() {
		_ = os.RemoveAll(dir)
		_ = os.Remove(etcNetns) // if no other lab uses it
	})
	f, err := os.OpenFile(filepath.Join(dir, "hosts"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err == nil {
		_, err = fmt.Fprintf(f, "%s %s\n", addr, name)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		t.Fatalf("netlab: %v", err)
	}
}

// Run runs a command in h, fails the test if it fails, and returns its
// combined output.
func (h *Host) Run(name string, args ...string) string {
	h.lab.t.Helper()
	return h.lab.run("ip", append([]string{"netns", "exec", h.NS, name}, args...)...)
}

// IP runs ip with args in h (ip -n NS ARGS...) and fails the test if it
// fails.
func (h *Host) IP(args ...string) {
	h.lab.t.Helper()
	h.lab.ip(append([]string{"-n", h.NS}, args...)...)
}

// IPTables runs iptables with args in h and fails the test if it fails.
// It skips the test when iptables is not installed.
func (h *Host) IPTables(args ...string) {
	h.lab.t.Helper()
	if _, err := exec.LookPath("iptables"); err != nil {
		testenv.Unavailable(h.lab.t, "netlab: needs the iptables command (apt-get install iptables)")
	}
	h.Run("iptables", append([]string{"-w"}, args...)...)
}

// Sysctl sets a kernel parameter of h's network stack, e.g.
// "net.ipv4.ip_forward=1".
func (h *Host) Sysctl(setting string) {
	h.lab.t.Helper()
	h.Run("sysctl", "-qw", setting)
}

// DefaultRoute sends h's traffic for other networks to gw.
func (h *Host) DefaultRoute(gw netip.Addr) {
	h.lab.t.Helper()
	h.IP("route", "replace", "default", "via", gw.String())
}

// Command returns a command that runs name in h. It is killed when ctx
// ends and when the test process dies, and Wait returns at most a second
// after that even if it left children holding its output open.
func (h *Host) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	// ip netns exec enters the namespace and execs name: the process is
	// name itself, so killing it kills the program, not a wrapper.
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", h.NS, name}, args...)...)
	if len(h.lab.Env)+len(h.Env) > 0 {
		cmd.Env = append(append(os.Environ(), h.lab.Env...), h.Env...)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = time.Second
	return cmd
}
