// Package link runs pion's ICE, DTLS and SCTP directly, rather than through
// a PeerConnection, between two sides that already trust each other's
// certificate: one link is one data channel over sockets of its own.
//
// It exists for one reason: the size of its packets. A PeerConnection's
// SCTP sends packets of at most 1,191 bytes whatever the path (pion v4
// fixes it), and the work of a transfer goes by the packet: one
// encryption, one checksum, a few allocations and goroutine switches each.
// A link's packets are as large as its path carries (see MTU): 1,435
// bytes on Ethernet, and 8,155 on one machine, where the kernel carries
// them whole. Measured here, one association over loopback moved 136 MB/s
// with 1,191-byte packets and 412 MB/s with 8,100-byte ones.
//
// A link speaks no SDP: each side tells the other its ICE credentials and
// host candidates (Desc) by a channel of the caller's, and the DTLS
// handshake checks that the other side holds the certificate the caller
// expects.
package link

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/pion/datachannel"
	"github.com/pion/dtls/v3"
	dtlsnet "github.com/pion/dtls/v3/pkg/net"
	"github.com/pion/ice/v4"
	"github.com/pion/logging"
	"github.com/pion/sctp"

	"pigeon/peer/internal/hostnet"
)

// Desc is what one side tells the other of a link, as JSON.
type Desc struct {
	Ufrag      string   `json:"ufrag"`
	Pwd        string   `json:"pwd"`
	Candidates []string `json:"candidates"`
	// MTU is the largest IP packet the side's system sends whole towards
	// the other, 0 if unknown. As TCP's maximum segment size does, it
	// bounds what the other side sends: a computer with jumbo frames
	// sends no more than one without takes.
	MTU int `json:"mtu,omitempty"`
}

// maxCandidates bounds the candidates a description may carry.
const maxCandidates = 32

// ParseDesc reads the other side's description of a link.
func ParseDesc(s string) (Desc, error) {
	var d Desc
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		return d, fmt.Errorf("a lane described in an unknown form: %w", err)
	}
	if d.Ufrag == "" || d.Pwd == "" || len(d.Candidates) == 0 || len(d.Candidates) > maxCandidates {
		return d, errors.New("a lane described without credentials or with no or too many candidates")
	}
	return d, nil
}

// Packet sizes on a link.
const (
	// ReadLimit is the largest UDP datagram pion's ICE mux and DTLS read
	// whole.
	ReadLimit = 8192
	// DTLSOverhead is what DTLS adds to an SCTP packet with an AES-GCM
	// cipher suite: the record header (13 bytes), the explicit nonce (8)
	// and the authentication tag (16).
	DTLSOverhead = 13 + 8 + 16
	// pionSCTPMTU is the SCTP packet size of a PeerConnection, which
	// every path pion works on carries: a link never goes below it.
	pionSCTPMTU = 1191
)

// ErrCertificate means the other side did not show the certificate
// expected of it.
var ErrCertificate = errors.New("the lane's certificate is not the connection's")

// Config is what a link is made with.
type Config struct {
	// Policy says which of the host's addresses the link's sockets use.
	Policy hostnet.Policy
	// LostTimeout is how long the other side may be silent before ICE
	// fails.
	LostTimeout time.Duration
	// Certificate is ours; Remote the SHA-256 fingerprint of the other
	// side's, which its DTLS handshake must show.
	Certificate tls.Certificate
	Remote      [32]byte
	// MaxMessage, ReceiveBuffer and RTOMax set the SCTP association's
	// largest message, receive window and retransmission back-off cap.
	MaxMessage    uint32
	ReceiveBuffer uint32
	RTOMax        time.Duration
	// OnFailed, if set, is called (once, on a goroutine of its own) when
	// the connected link's ICE fails and it was not closed by us.
	OnFailed      func()
	LoggerFactory logging.LoggerFactory
}

// Link is one direct connection: its sockets, ICE agent, DTLS connection,
// SCTP association and one pre-negotiated data channel.
type Link struct {
	cfg   Config
	host  *hostnet.Sockets
	agent *ice.Agent

	mu        sync.Mutex
	dtls      *dtls.Conn
	assoc     *sctp.Association
	mtu       uint32 // the SCTP packet size the link sends
	connected bool
	closing   bool // closed by us: its end is no news
}

// New makes a link's ICE agent, with sockets of its own and host
// candidates only.
func New(cfg Config) (*Link, error) {
	host, err := hostnet.Listen(cfg.Policy, cfg.LoggerFactory)
	if err != nil {
		return nil, err
	}
	half := cfg.LostTimeout / 2
	agent, err := ice.NewAgentWithOptions(
		ice.WithUDPMux(host),
		ice.WithNetworkTypes([]ice.NetworkType{ice.NetworkTypeUDP4, ice.NetworkTypeUDP6}),
		ice.WithCandidateTypes([]ice.CandidateType{ice.CandidateTypeHost}),
		ice.WithMulticastDNSMode(ice.MulticastDNSModeDisabled),
		ice.WithDisconnectedTimeout(half),
		ice.WithFailedTimeout(cfg.LostTimeout),
		ice.WithKeepaliveInterval(min(time.Second, half/2)),
		ice.WithLoggerFactory(cfg.LoggerFactory),
	)
	if err != nil {
		host.Close()
		return nil, err
	}
	l := &Link{cfg: cfg, host: host, agent: agent}
	err = agent.OnConnectionStateChange(func(s ice.ConnectionState) {
		l.mu.Lock()
		news := l.connected && !l.closing
		l.mu.Unlock()
		if news && s == ice.ConnectionStateFailed && cfg.OnFailed != nil {
			go cfg.OnFailed()
		}
	})
	if err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// Describe gathers the link's candidates and returns its description,
// announcing mtu.
func (l *Link) Describe(ctx context.Context, mtu int) (string, error) {
	var (
		mu    sync.Mutex
		cands []string
	)
	gathered := make(chan struct{})
	err := l.agent.OnCandidate(func(c ice.Candidate) {
		if c == nil {
			close(gathered)
			return
		}
		mu.Lock()
		cands = append(cands, c.Marshal())
		mu.Unlock()
	})
	if err != nil {
		return "", err
	}
	if err := l.agent.GatherCandidates(); err != nil {
		return "", err
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	ufrag, pwd, err := l.agent.GetLocalUserCredentials()
	if err != nil {
		return "", err
	}
	mu.Lock()
	defer mu.Unlock()
	b, err := json.Marshal(Desc{Ufrag: ufrag, Pwd: pwd, Candidates: cands, MTU: mtu})
	return string(b), err
}

// Connect connects the link to the other side's (remote): ICE, with the
// offerer controlling, then DTLS (the offerer is the client) with the
// configured certificates, then SCTP, and returns its data channel once a
// probe has shown that the path carries packets of the link's size both
// ways.
func (l *Link) Connect(ctx context.Context, remote Desc, offerer bool) (*datachannel.DataChannel, error) {
	if err := l.addRemote(remote); err != nil {
		return nil, err
	}
	var (
		ic  *ice.Conn
		err error
	)
	if offerer {
		ic, err = l.agent.Dial(ctx, remote.Ufrag, remote.Pwd)
	} else {
		ic, err = l.agent.Accept(ctx, remote.Ufrag, remote.Pwd)
	}
	if err != nil {
		return nil, err
	}

	want := l.cfg.Remote
	shared := []dtls.Option{
		dtls.WithCertificates(l.cfg.Certificate),
		dtls.WithCipherSuites(dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256),
		dtls.WithExtendedMasterSecret(dtls.RequireExtendedMasterSecret),
		// No certificate authority: the certificate is checked by its
		// fingerprint.
		dtls.WithInsecureSkipVerify(true),
		dtls.WithVerifyPeerCertificate(func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 || sha256.Sum256(raw[0]) != want {
				return ErrCertificate
			}
			return nil
		}),
		dtls.WithLoggerFactory(l.cfg.LoggerFactory),
	}
	pc := dtlsnet.PacketConnFromConn(icePath{ic})
	var dc *dtls.Conn
	if offerer {
		dc, err = dtls.ClientWithOptions(pc, ic.RemoteAddr(), optionsAs[dtls.ClientOption](shared)...)
	} else {
		opts := append(optionsAs[dtls.ServerOption](shared), dtls.WithClientAuth(dtls.RequireAnyClientCert))
		dc, err = dtls.ServerWithOptions(pc, ic.RemoteAddr(), opts...)
	}
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.dtls = dc
	l.mu.Unlock()
	if err := dc.HandshakeContext(ctx); err != nil {
		return nil, fmt.Errorf("the lane's DTLS handshake: %w", err)
	}

	mtu := MTU(ic.LocalAddr(), ic.RemoteAddr(), remote.MTU)
	assocOpts := []sctp.AssociationOption{
		sctp.WithNetConn(dc),
		sctp.WithMTU(mtu),
		sctp.WithMaxReceiveBufferSize(l.cfg.ReceiveBuffer),
		sctp.WithMaxMessageSize(l.cfg.MaxMessage),
		sctp.WithRTOMax(float64(l.cfg.RTOMax / time.Millisecond)),
		// DTLS authenticates every packet (RFC 9653).
		sctp.WithEnableZeroChecksum(true),
		sctp.WithLoggerFactory(l.cfg.LoggerFactory),
	}
	assoc, err := associate(ctx, offerer, assocOpts)
	if err != nil {
		return nil, fmt.Errorf("the lane's SCTP association: %w", err)
	}
	l.mu.Lock()
	l.assoc, l.mtu = assoc, mtu
	closing := l.closing
	l.mu.Unlock()
	if closing {
		_ = assoc.Close()
		return nil, net.ErrClosed
	}
	ch, err := datachannel.Dial(assoc, 0, &datachannel.Config{
		ChannelType:   datachannel.ChannelTypeReliable,
		Negotiated:    true,
		Label:         "pigeon-lane",
		LoggerFactory: l.cfg.LoggerFactory,
	})
	if err != nil {
		return nil, err
	}
	if err := probe(ch, mtu, l.cfg.MaxMessage, probeWait); err != nil {
		return nil, fmt.Errorf("the path did not carry packets of %d bytes: %w", mtu+DTLSOverhead, err)
	}
	l.mu.Lock()
	l.connected = true
	l.mu.Unlock()
	return ch, nil
}

// addRemote gives the link's ICE the other side's candidates.
func (l *Link) addRemote(remote Desc) error {
	for _, raw := range remote.Candidates {
		c, err := ice.UnmarshalCandidate(raw)
		if err != nil {
			return fmt.Errorf("a lane candidate: %w", err)
		}
		if err := l.agent.AddRemoteCandidate(c); err != nil {
			return err
		}
	}
	return nil
}

// Restart restarts the link's ICE with fresh credentials and returns its
// new description, announcing mtu. DTLS and SCTP above ICE go on as they
// were: what was lost meanwhile is sent again.
func (l *Link) Restart(ctx context.Context, mtu int) (string, error) {
	if err := l.agent.Restart("", ""); err != nil {
		return "", err
	}
	return l.Describe(ctx, mtu)
}

// Follow gives the link's restarted ICE the other side's new credentials
// and candidates, from which it checks its way back.
func (l *Link) Follow(remote Desc) error {
	if err := l.agent.SetRemoteCredentials(remote.Ufrag, remote.Pwd); err != nil {
		return err
	}
	return l.addRemote(remote)
}

// LocalUfrag is the link's ICE username fragment now.
func (l *Link) LocalUfrag() (string, error) {
	u, _, err := l.agent.GetLocalUserCredentials()
	return u, err
}

// PacketSize is the SCTP packet size the connected link sends, 0 before.
func (l *Link) PacketSize() uint32 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.mtu
}

// Buffered is what the link's association still has to deliver.
func (l *Link) Buffered() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.assoc == nil {
		return 0
	}
	return uint64(l.assoc.BufferedAmount())
}

// Silence closes the link's sockets only, as a network that went away
// would: the other side hears nothing more of it.
func (l *Link) Silence() { _ = l.host.Close() }

// Close closes the link: SCTP, DTLS, ICE and its sockets. Closing it again
// does nothing.
func (l *Link) Close() {
	l.mu.Lock()
	if l.closing {
		l.mu.Unlock()
		return
	}
	l.closing = true
	assoc, dc := l.assoc, l.dtls
	l.mu.Unlock()
	if assoc != nil {
		_ = assoc.Close() // closes the DTLS connection too
	} else if dc != nil {
		_ = dc.Close()
	}
	_ = l.agent.Close()
	_ = l.host.Close()
}

// icePath is a link's ICE connection as DTLS writes to it. While ICE has
// no path (as during a restart) a packet written is lost, as UDP may lose
// it, rather than an error that would end the association above: pion's
// PeerConnection does the same.
type icePath struct{ *ice.Conn }

func (c icePath) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	if errors.Is(err, ice.ErrNoCandidatePairs) {
		return len(b), nil
	}
	return n, err
}

// probeWait bounds the exchange of probes on a new link: SCTP sends a lost
// packet again after a second at first.
const probeWait = 2500 * time.Millisecond

// errNoProbe means the probes of a new link were not both carried in time;
// errBadProbe that the other side sent something else first.
var (
	errNoProbe  = fmt.Errorf("none arrived within %v, though the interfaces say they fit", probeWait)
	errBadProbe = errors.New("the other side's first messages on it were not a probe and its acknowledgement")
)

// probe checks that the link's path carries packets of its size both ways,
// before the link carries anything: a hop with a smaller MTU that drops
// larger packets without a word back would otherwise stall a transfer.
// Each side sends one message that fills an SCTP packet, then, on reading
// the other side's, a one-byte acknowledgement; it is done once it has
// read both, within wait. Either both sides end with the link usable, or
// (but for an acknowledgement lost twice in a row) both give it up. After
// an error the caller closes the association, which ends the read.
func probe(ch *datachannel.DataChannel, mtu, maxMessage uint32, wait time.Duration) error {
	// An SCTP packet carries a 12-byte common header, a 16-byte DATA
	// chunk header and a payload padded to 4 bytes. The probe goes first,
	// so that it leaves before the acknowledgement.
	if _, err := ch.Write(make([]byte, (mtu-12-16)&^3)); err != nil {
		return err
	}
	got := make(chan error, 1)
	go func() {
		buf := make([]byte, max(maxMessage, mtu))
		// The other side's probe, then its acknowledgement of ours.
		n, _, err := ch.ReadDataChannel(buf)
		if err == nil && n <= 1 {
			err = errBadProbe
		}
		if err == nil {
			_, err = ch.Write([]byte{1})
		}
		if err == nil {
			n, _, err = ch.ReadDataChannel(buf)
			if err == nil && n != 1 {
				err = errBadProbe
			}
		}
		got <- err
	}()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case err := <-got:
		return err
	case <-t.C:
		return errNoProbe
	}
}

// associate makes the SCTP association over a link's DTLS connection: the
// offerer's side starts it. It gives up when ctx ends.
func associate(ctx context.Context, offerer bool, opts []sctp.AssociationOption) (*sctp.Association, error) {
	type result struct {
		a   *sctp.Association
		err error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		if offerer {
			r.a, r.err = sctp.ClientWithOptions(optionsAs[sctp.ClientOption](opts)...)
		} else {
			r.a, r.err = sctp.ServerWithOptions(optionsAs[sctp.ServerOption](opts)...)
		}
		done <- r
	}()
	select {
	case r := <-done:
		return r.a, r.err
	case <-ctx.Done():
		// Closing the link closes the DTLS connection under the
		// association, which ends the attempt.
		return nil, ctx.Err()
	}
}

// optionsAs gives pion's options shared by both ends (dtls.Option,
// sctp.AssociationOption) as the option type of one end, which each of
// them implements.
func optionsAs[T, S any](shared []S) []T {
	out := make([]T, len(shared))
	for i, o := range shared {
		out[i] = any(o).(T)
	}
	return out
}

// MTU is the SCTP packet size for a link between local and remote: what
// the path carries in one IP packet (and the other side announced, if it
// did) once DTLS, UDP and IP have added their headers, within what pion
// reads whole, and not below what a PeerConnection sends.
func MTU(local, remote net.Addr, announced int) uint32 {
	l, lok := local.(*net.UDPAddr)
	r, rok := remote.(*net.UDPAddr)
	if !lok || !rok {
		return pionSCTPMTU
	}
	la, _ := netip.AddrFromSlice(l.IP)
	ra, _ := netip.AddrFromSlice(r.IP)
	la, ra = la.Unmap().WithZone(l.Zone), ra.Unmap().WithZone(r.Zone)
	path := hostnet.PathMTU(la, netip.AddrPortFrom(ra, uint16(r.Port)))
	if announced > 0 {
		path = min(path, announced)
	}
	return PacketSize(path, ra.Is4())
}

// PacketSize is the SCTP packet size for a path that carries IP packets of
// up to path bytes (0 if unknown).
func PacketSize(path int, ipv4 bool) uint32 {
	headers := 40 + 8 // IPv6 and UDP
	if ipv4 {
		headers = 20 + 8
	}
	return uint32(min(ReadLimit, max(pionSCTPMTU+DTLSOverhead, path-headers)) - DTLSOverhead)
}
