package peer

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
	"github.com/pion/sctp"

	"pigeon/peer/internal/hostnet"
)

// A lane runs pion's ICE, DTLS and SCTP directly rather than through a
// PeerConnection, for one reason: the size of its packets. A
// PeerConnection's SCTP sends packets of at most 1,191 bytes whatever the
// path (pion v4 fixes it), and the work of a transfer goes by the packet:
// one encryption, one checksum, a few allocations and goroutine switches
// each. A lane's packets are as large as its path carries (see laneMTU):
// 1,435 bytes on Ethernet, and 8,155 on one machine, where the kernel
// carries them whole. Measured here, one association over loopback moved
// 136 MB/s with 1,191-byte packets and 412 MB/s with 8,100-byte ones.
//
// Both sides are pigeons, so the lane speaks no SDP: each side tells the
// other its ICE credentials and host candidates (laneDesc), and the DTLS
// handshake checks that the other side holds the certificate of the first
// connection, which the verification code covers.

// laneDesc is what one side tells the other of a lane, as JSON.
type laneDesc struct {
	Ufrag      string   `json:"ufrag"`
	Pwd        string   `json:"pwd"`
	Candidates []string `json:"candidates"`
	// MTU is the largest IP packet the side's system sends whole towards
	// the other on the first connection's path, 0 if unknown. As TCP's
	// maximum segment size does, it bounds what the other side sends: a
	// computer with jumbo frames sends no more than one without takes.
	MTU int `json:"mtu,omitempty"`
}

// maxLaneCandidates bounds the candidates a lane description may carry.
const maxLaneCandidates = 32

// Packet sizes on a lane.
const (
	// laneReadLimit is the largest UDP datagram pion's ICE mux and DTLS
	// read whole.
	laneReadLimit = 8192
	// dtlsOverhead is what DTLS adds to an SCTP packet with an AES-GCM
	// cipher suite: the record header (13 bytes), the explicit nonce (8)
	// and the authentication tag (16).
	dtlsOverhead = 13 + 8 + 16
	// pionSCTPMTU is the SCTP packet size of a PeerConnection, which
	// every path pion works on carries: a lane never goes below it.
	pionSCTPMTU = 1191
)

// errLaneCertificate means the other side of a lane did not show the
// certificate of the first connection.
var errLaneCertificate = errors.New("the lane's certificate is not the connection's")

// lane is one further connection.
type lane struct {
	id    int
	host  *hostnet.Sockets
	agent *ice.Agent
	open  chan struct{} // closed once the lane is connected, or failed to

	restartMu sync.Mutex // serializes the lane's ICE restarts (lanerestart.go)

	mu      sync.Mutex
	conn    *Conn // once connected
	err     error // why the lane did not connect, once open is closed
	dtls    *dtls.Conn
	assoc   *sctp.Association
	mtu     uint32 // the SCTP packet size the lane sends
	opened  bool
	used    bool // carries part of a striped stream: its end ends the session
	closing bool // closed by us: its end is no news
}

// newLane makes lane id's ICE agent, with sockets of its own and host
// candidates only: lanes run where the first connection runs between host
// candidates.
func (p *Peer) newLane(id int) (*lane, error) {
	host, err := hostnet.Listen(p.opts.policy(p.loopOnly), p.opts.LoggerFactory)
	if err != nil {
		return nil, err
	}
	half := p.opts.LostTimeout / 2
	opts := []ice.AgentOption{
		ice.WithUDPMux(host),
		ice.WithNetworkTypes([]ice.NetworkType{ice.NetworkTypeUDP4, ice.NetworkTypeUDP6}),
		ice.WithCandidateTypes([]ice.CandidateType{ice.CandidateTypeHost}),
		ice.WithMulticastDNSMode(ice.MulticastDNSModeDisabled),
		ice.WithDisconnectedTimeout(half),
		ice.WithFailedTimeout(p.opts.LostTimeout),
		ice.WithKeepaliveInterval(min(time.Second, half/2)),
		ice.WithLoggerFactory(p.opts.LoggerFactory),
	}
	agent, err := ice.NewAgentWithOptions(opts...)
	if err != nil {
		host.Close()
		return nil, err
	}
	l := &lane{id: id, host: host, agent: agent, open: make(chan struct{})}
	err = agent.OnConnectionStateChange(func(s ice.ConnectionState) {
		l.mu.Lock()
		news := l.opened && l.used && !l.closing
		l.mu.Unlock()
		// A lane closed by the other side is news only with the rest of
		// the session, which ends when the first connection closes.
		if news && s == ice.ConnectionStateFailed {
			go p.laneLost()
		}
	})
	if err != nil {
		l.close()
		return nil, err
	}
	p.mu.Lock()
	ended := p.err != nil
	if !ended {
		p.lanes.all = append(p.lanes.all, l)
	}
	p.mu.Unlock()
	if ended {
		l.close()
		return nil, p.Err()
	}
	return l, nil
}

// describe gathers the lane's candidates and returns its description,
// announcing mtu.
func (l *lane) describe(ctx context.Context, mtu int) (string, error) {
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
	b, err := json.Marshal(laneDesc{Ufrag: ufrag, Pwd: pwd, Candidates: cands, MTU: mtu})
	return string(b), err
}

// parseLaneDesc reads the other side's description of a lane.
func parseLaneDesc(s string) (laneDesc, error) {
	var d laneDesc
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		return d, fmt.Errorf("a lane described in an unknown form: %w", err)
	}
	if d.Ufrag == "" || d.Pwd == "" || len(d.Candidates) == 0 || len(d.Candidates) > maxLaneCandidates {
		return d, errors.New("a lane described without credentials or with no or too many candidates")
	}
	return d, nil
}

// connect connects the lane to the other side's (remote): ICE, with the
// offerer controlling, then DTLS (the offerer is the client) with the
// certificates of the first connection, then SCTP and one pre-negotiated
// data channel. It closes l.open, with l.err set if it failed.
func (l *lane) connect(ctx context.Context, p *Peer, remote laneDesc, offerer bool) (err error) {
	defer func() {
		l.mu.Lock()
		l.err = err
		l.opened = err == nil
		l.mu.Unlock()
		close(l.open)
	}()
	if err := l.addRemote(remote); err != nil {
		return err
	}
	var ic *ice.Conn
	if offerer {
		ic, err = l.agent.Dial(ctx, remote.Ufrag, remote.Pwd)
	} else {
		ic, err = l.agent.Accept(ctx, remote.Ufrag, remote.Pwd)
	}
	if err != nil {
		return err
	}

	cert, err := tlsCertificate(p)
	if err != nil {
		return err
	}
	want := p.Remote().Fingerprint
	shared := []dtls.Option{
		dtls.WithCertificates(cert),
		dtls.WithCipherSuites(dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256),
		dtls.WithExtendedMasterSecret(dtls.RequireExtendedMasterSecret),
		// No certificate authority: the certificate is checked by
		// its fingerprint.
		dtls.WithInsecureSkipVerify(true),
		dtls.WithVerifyPeerCertificate(func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 || sha256.Sum256(raw[0]) != want {
				return errLaneCertificate
			}
			return nil
		}),
		dtls.WithLoggerFactory(p.opts.LoggerFactory),
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
		return err
	}
	l.mu.Lock()
	l.dtls = dc
	l.mu.Unlock()
	if err := dc.HandshakeContext(ctx); err != nil {
		return fmt.Errorf("the lane's DTLS handshake: %w", err)
	}

	mtu := laneMTU(ic.LocalAddr(), ic.RemoteAddr(), remote.MTU)
	assocOpts := []sctp.AssociationOption{
		sctp.WithNetConn(dc),
		sctp.WithMTU(mtu),
		sctp.WithMaxReceiveBufferSize(sctpReceiveBuffer),
		sctp.WithMaxMessageSize(MaxMessage),
		sctp.WithRTOMax(float64(sctpRTOMax / time.Millisecond)),
		// DTLS authenticates every packet (RFC 9653).
		sctp.WithEnableZeroChecksum(true),
		sctp.WithLoggerFactory(p.opts.LoggerFactory),
	}
	assoc, err := associate(ctx, offerer, assocOpts)
	if err != nil {
		return fmt.Errorf("the lane's SCTP association: %w", err)
	}
	l.mu.Lock()
	l.assoc, l.mtu = assoc, mtu
	closing := l.closing
	l.mu.Unlock()
	if closing {
		_ = assoc.Close()
		return net.ErrClosed
	}
	ch, err := datachannel.Dial(assoc, 0, &datachannel.Config{
		ChannelType:   datachannel.ChannelTypeReliable,
		Negotiated:    true,
		Label:         "pigeon-lane",
		LoggerFactory: p.opts.LoggerFactory,
	})
	if err != nil {
		return err
	}
	if err := probe(ch, mtu, laneProbeWait); err != nil {
		return fmt.Errorf("the path did not carry packets of %d bytes: %w", mtu+dtlsOverhead, err)
	}
	conn := newConn(p, ch)
	conn.rw = ch
	l.mu.Lock()
	l.conn = conn
	l.mu.Unlock()
	return nil
}

// laneProbeWait bounds the exchange of probes on a new lane: SCTP sends a
// lost packet again after a second at first.
const laneProbeWait = 2500 * time.Millisecond

// errNoProbe means the probes of a new lane were not both carried in time;
// errBadProbe that the other side sent something else first.
var (
	errNoProbe  = fmt.Errorf("none arrived within %v, though the interfaces say they fit", laneProbeWait)
	errBadProbe = errors.New("the other side's first messages on it were not a probe and its acknowledgement")
)

// probe checks that the lane's path carries packets of its size both ways,
// before the lane carries anything: a hop with a smaller MTU that drops
// larger packets without a word back would otherwise stall a transfer.
// Each side sends one message that fills an SCTP packet, then, on reading
// the other side's, a one-byte acknowledgement; it is done once it has
// read both, within wait. Either both sides end with the lane usable, or
// (but for an acknowledgement lost twice in a row) both give it up. After
// an error the caller closes the association, which ends the read.
func probe(ch *datachannel.DataChannel, mtu uint32, wait time.Duration) error {
	// An SCTP packet carries a 12-byte common header, a 16-byte DATA
	// chunk header and a payload padded to 4 bytes. The probe goes first,
	// so that it leaves before the acknowledgement.
	if _, err := ch.Write(make([]byte, (mtu-12-16)&^3)); err != nil {
		return err
	}
	got := make(chan error, 1)
	go func() {
		buf := make([]byte, MaxMessage)
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

// addRemote gives the lane's ICE the other side's candidates.
func (l *lane) addRemote(remote laneDesc) error {
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

// associate makes the SCTP association over a lane's DTLS connection: the
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
		// Closing the lane closes the DTLS connection under the
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

// laneMTU is the SCTP packet size for a lane between local and remote: what
// the path carries in one IP packet (and the other side announced, if it
// did) once DTLS, UDP and IP have added their headers, within what pion
// reads whole, and not below what a PeerConnection sends.
func laneMTU(local, remote net.Addr, announced int) uint32 {
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
	return sctpPacketSize(path, ra.Is4())
}

// announcedMTU is what p's lanes announce (laneDesc.MTU): the path MTU
// towards the other side on the first connection's path, 0 if unknown.
func (p *Peer) announcedMTU() int {
	pair, err := p.selectedPair()
	if err != nil {
		return 0
	}
	local, err := netip.ParseAddr(pair.Local.Address)
	if err != nil {
		return 0
	}
	remote, err := netip.ParseAddr(pair.Remote.Address)
	if err != nil {
		return 0
	}
	return hostnet.PathMTU(local.Unmap(), netip.AddrPortFrom(remote.Unmap(), pair.Remote.Port))
}

// sctpPacketSize is the SCTP packet size for a path that carries IP packets
// of up to path bytes (0 if unknown).
func sctpPacketSize(path int, ipv4 bool) uint32 {
	headers := 40 + 8 // IPv6 and UDP
	if ipv4 {
		headers = 20 + 8
	}
	return uint32(min(laneReadLimit, max(pionSCTPMTU+dtlsOverhead, path-headers)) - dtlsOverhead)
}

// tlsCertificate is the first connection's certificate, for DTLS on a lane.
func tlsCertificate(p *Peer) (tls.Certificate, error) {
	pem, err := p.cert.PEM()
	if err != nil {
		return tls.Certificate{}, err
	}
	// The PEM holds the certificate, then the private key.
	return tls.X509KeyPair([]byte(pem), []byte(pem))
}

// close closes the lane: SCTP, DTLS, ICE and its sockets. Closing it again
// does nothing.
func (l *lane) close() {
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

// buffered is what the lane's association still has to deliver.
func (l *lane) buffered() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.assoc == nil {
		return 0
	}
	return uint64(l.assoc.BufferedAmount())
}
