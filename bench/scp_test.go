package bench

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// sshdPath is where Debian's openssh-server puts sshd, which wants to be
// started by its absolute path.
const sshdPath = "/usr/sbin/sshd"

// sshServer is an sshd of the benchmark's own, the receiving end of the
// scp baseline: scp is what people use instead of pigeon between two
// computers. Its host key, the client's key, its configuration and its log
// are files in a temporary folder; it reads nothing of the system's sshd
// and nothing in ~/.ssh, and it stops when the benchmark ends.
type sshServer struct {
	host  string // its address, 127.0.0.1 or a LAN address
	port  int
	user  string // who scp logs in as: whoever runs the benchmark
	key   string // the client's private key
	known string // a known_hosts file that names its host key
}

// sshMissing says what this machine lacks to run the scp baseline, or ""
// when it has it all.
func sshMissing() string {
	if _, err := os.Stat(sshdPath); err != nil {
		return fmt.Sprintf("no %s (install openssh-server): %v", sshdPath, err)
	}
	for _, name := range []string{"scp", "ssh-keygen"} {
		if _, err := exec.LookPath(name); err != nil {
			return fmt.Sprintf("no %s (install openssh-client): %v", name, err)
		}
	}
	// sshd refuses to start without its privilege-separation folder.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		return fmt.Sprintf("sshd needs /run/sshd: %v", err)
	}
	return ""
}

// startSSH starts an sshd on host (an address on side's machine, whose
// commands cmd makes) and waits until it accepts connections. It returns
// nil and the reason when the machine lacks sshd, scp or ssh-keygen.
func startSSH(b *testing.B, cmd commands, side int, host string) (*sshServer, string) {
	b.Helper()
	if why := sshMissing(); why != "" {
		return nil, why
	}
	me, err := user.Current()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	s := &sshServer{
		host:  host,
		port:  freePort(b),
		user:  me.Username,
		key:   filepath.Join(dir, "client_key"),
		known: filepath.Join(dir, "known_hosts"),
	}
	hostKey := filepath.Join(dir, "host_key")
	for _, key := range []string{hostKey, s.key} {
		if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput(); err != nil {
			b.Fatalf("ssh-keygen: %v\n%s", err, out)
		}
	}
	hostPub := readFile(b, hostKey+".pub")
	writeFile(b, s.known, fmt.Sprintf("[%s]:%d %s", host, s.port, hostPub))
	authorized := filepath.Join(dir, "authorized_keys")
	writeFile(b, authorized, readFile(b, s.key+".pub"))
	config := filepath.Join(dir, "sshd_config")
	writeFile(b, config, strings.Join([]string{
		"ListenAddress " + host,
		"HostKey " + hostKey,
		"AuthorizedKeysFile " + authorized,
		"PidFile " + filepath.Join(dir, "sshd.pid"),
		"StrictModes no",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"UsePAM no",
		"PermitRootLogin prohibit-password",
		// scp speaks SFTP since OpenSSH 9.0.
		"Subsystem sftp internal-sftp",
		"",
	}, "\n"))

	logPath := filepath.Join(dir, "sshd.log")
	log, err := os.Create(logPath)
	if err != nil {
		b.Fatal(err)
	}
	defer log.Close() // sshd has its own copy
	sshd := cmd(side, sshdPath, "-D", "-e", "-f", config, "-p", strconv.Itoa(s.port))
	sshd.Stdout, sshd.Stderr = log, log
	if err := sshd.Start(); err != nil {
		b.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- sshd.Wait() }()
	b.Cleanup(func() {
		sshd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			sshd.Process.Kill()
			<-exited
		}
	})

	// sshd logs this line once it listens. The port may be in another
	// network namespace, out of this process's reach, so the log is what
	// tells that it accepts.
	listening := fmt.Sprintf("Server listening on %s port %d.", host, s.port)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(readFile(b, logPath), listening) {
		select {
		case err := <-exited:
			b.Fatalf("sshd exited before it listened: %v\n%s", err, readFile(b, logPath))
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			b.Fatalf("sshd does not listen after 10 s:\n%s", readFile(b, logPath))
		}
	}
	return s, ""
}

// scpOnce copies src with scp, which cmd runs as side, to a fresh file in
// dir on the server's machine, and checks outside the timed part that the
// whole file arrived: its size, and its SHA-256 against want.
func scpOnce(b *testing.B, s *sshServer, cmd commands, side int, dir, src string, want []byte) {
	b.Helper()
	b.StopTimer()
	defer b.StartTimer()
	work, _, _ := runDir(b, dir)
	defer os.RemoveAll(work)
	dst := filepath.Join(work, "scp-copy")
	scp := cmd(side, "scp", "-q", "-o", "BatchMode=yes",
		"-o", "UserKnownHostsFile="+s.known, "-o", "StrictHostKeyChecking=yes",
		"-i", s.key, "-P", strconv.Itoa(s.port),
		src, s.user+"@"+s.host+":"+dst)
	var stderr bytes.Buffer
	scp.Stderr = &stderr
	scp.WaitDelay = time.Minute
	b.StartTimer()
	err := scp.Run()
	b.StopTimer()
	if err != nil {
		b.Fatalf("scp: %v\n%s", err, stderr.Bytes())
	}
	fi, err := os.Stat(src)
	if err != nil {
		b.Fatal(err)
	}
	if gi, err := os.Stat(dst); err != nil || gi.Size() != fi.Size() {
		b.Fatalf("scp: %s is not all of %s (%d bytes): %v", dst, src, fi.Size(), err)
	}
	if got := sumFile(b, dst); !bytes.Equal(got, want) {
		b.Fatalf("scp: %s is not %s (SHA-256 %x, want %x)", dst, src, got, want)
	}
}

// freePort is a TCP port that nothing on this machine listens on.
func freePort(b *testing.B) int {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func sumFile(b *testing.B, path string) []byte {
	b.Helper()
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		b.Fatal(err)
	}
	return h.Sum(nil)
}

func readFile(b *testing.B, path string) string {
	b.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	return string(data)
}

func writeFile(b *testing.B, path, data string) {
	b.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		b.Fatal(err)
	}
}
