package sdpcodec

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/pion/ice/v4"
	"github.com/pion/sdp/v3"
)

// Type preferences of RFC 8445 §5.1.2.2, indexed by [CandidateType].
var typePreference = [4]uint32{Host: 126, Srflx: 100, Prflx: 110, Relay: 0}

// priority returns the RFC 8445 §5.1.2.1 priority of the candidate at index i
// of the blob. The local preference is 65535-i for UDP and 32767-i for TCP, so
// candidates keep the blob's order within a type and TCP ranks below UDP.
func priority(c Candidate, i int) uint32 {
	local := uint32(65535 - i)
	if c.Transport != UDP {
		local = uint32(32767 - i)
	}
	return typePreference[c.Type&3]<<24 | local<<8 | (256 - 1)
}

// SDP rebuilds the complete session description b stands for, with CRLF line
// endings, from a fixed template: one data channel section (mid 0), the ICE
// credentials of [CredentialsAt] b's generation, setup actpass for offers and active for
// answers, and one candidate line per candidate followed by end-of-candidates.
// A blob that carries its sender's credentials gets those instead, and an
// open offer those of [OpenCredentials].
func (b *Blob) SDP() string {
	ufrag, pwd := CredentialsAt(b.Fingerprint, b.Generation)
	switch {
	case b.CarriesCredentials():
		ufrag, pwd = b.Ufrag, b.Pwd
	case b.Open != nil:
		ufrag, pwd = OpenCredentials(b.Fingerprint, b.Open.Secret)
	}
	return b.SDPWith(ufrag, pwd)
}

// SDPWith is [Blob.SDP] with the ICE credentials ufrag and pwd: those of
// an open room's host towards one joiner ([RoomCredentials]).
func (b *Blob) SDPWith(ufrag, pwd string) string {
	sessionID := binary.BigEndian.Uint64(b.Fingerprint[0:8]) &^ (1 << 63)
	setup := "actpass"
	if b.Kind == Answer {
		setup = "active"
	}
	var sb strings.Builder
	line := func(parts ...string) {
		for _, p := range parts {
			sb.WriteString(p)
		}
		sb.WriteString("\r\n")
	}
	line("v=0")
	line("o=- ", strconv.FormatUint(sessionID, 10), " 2 IN IP4 127.0.0.1")
	line("s=", b.sessionName())
	line("t=0 0")
	line("a=group:BUNDLE 0")
	line("a=msid-semantic:WMS *")
	line("m=application 9 UDP/DTLS/SCTP webrtc-datachannel")
	line("c=IN IP4 0.0.0.0")
	line("a=ice-ufrag:", ufrag)
	line("a=ice-pwd:", pwd)
	line("a=fingerprint:sha-256 ", b.FingerprintString())
	line("a=setup:", setup)
	line("a=mid:0")
	line("a=sctp-port:5000")
	line("a=max-message-size:262144")
	for i, c := range b.Candidates {
		line("a=candidate:", candidateValue(c, i))
	}
	line("a=end-of-candidates")
	return sb.String()
}

// sessionName is the rebuilt description's s= line: "pigeon" and the app
// for an offer, "pigeon answer" and the binding for an answer, so that a
// pigeon reading the other's description in another program's format (see
// [Foreign.Pigeon]) knows what a blob would have told it. Other programs
// ignore the session name.
func (b *Blob) sessionName() string {
	switch {
	case b.Kind == Offer && b.App != 0:
		return "pigeon " + b.App.String()
	case b.Kind == Answer:
		return fmt.Sprintf("pigeon answer %03x", b.Binding)
	}
	return "-"
}

// readSessionName sets the app of an offer or the binding of an answer
// from the s= line [Blob.sessionName] writes, and reports whether it was
// there.
func (b *Blob) readSessionName(name string) bool {
	rest, ok := strings.CutPrefix(name, "pigeon ")
	if !ok {
		return false
	}
	switch b.Kind {
	case Offer:
		for a := App(1); a <= maxApp; a++ {
			if a.String() == rest {
				b.App = a
				return true
			}
		}
	case Answer:
		if hexBinding, ok := strings.CutPrefix(rest, "answer "); ok && len(hexBinding) == 3 {
			if v, err := strconv.ParseUint(hexBinding, 16, 12); err == nil {
				b.Binding = uint16(v)
				return true
			}
		}
	}
	return false
}

// candidateValue returns the value of the a=candidate line for the candidate at
// index i.
func candidateValue(c Candidate, i int) string {
	host := c.Hostname
	if host == "" {
		host = c.Addr.String()
	}
	proto := "udp"
	if c.Transport != UDP {
		proto = "tcp"
	}
	s := strconv.Itoa(i+1) + " 1 " + proto + " " + strconv.FormatUint(uint64(priority(c, i)), 10) +
		" " + host + " " + strconv.Itoa(int(c.Port)) + " typ " + c.Type.String()
	if c.Type != Host {
		s += " raddr 0.0.0.0 rport 0"
	}
	switch c.Transport {
	case TCPActive:
		s += " tcptype active"
	case TCPPassive:
		s += " tcptype passive"
	case TCPSO:
		s += " tcptype so"
	}
	return s
}

// FromSDP extracts the blob of a session description of the given kind, as
// pion's LocalDescription().SDP returns it after gathering completed. App and
// Binding are left zero for the caller to set.
//
// The description must have exactly one media section, for data channels; a
// sha-256 fingerprint; setup actpass (offer) or active (answer); and the ICE
// credentials [Credentials] derives from its fingerprint, or the rebuilt
// description would not match. All candidates of component 1 are kept in
// order, without duplicates, up to [MaxCandidates]. Errors wrap
// [ErrUnsupportedSDP].
func FromSDP(kind Kind, description string) (*Blob, error) {
	return fromSDP(kind, description, true, Credentials)
}

// FromSDPWith is [FromSDP] for a description whose ICE credentials are
// those creds gives for its fingerprint: an open offer's offerer
// ([OpenCredentials]) or joiner ([JoinerCredentials]).
func FromSDPWith(kind Kind, description string, creds func(fp [32]byte) (ufrag, pwd string)) (*Blob, error) {
	return fromSDP(kind, description, true, creds)
}

// fromSDP reads a description into a blob. Strict, it checks everything a
// blob needs to rebuild the description; otherwise it only needs the
// fingerprint and reads what candidates it can (a summary of another
// program's description, which no blob can carry).
func fromSDP(kind Kind, description string, strict bool, creds func([32]byte) (string, string)) (*Blob, error) {
	if kind != Offer && kind != Answer {
		return nil, fmt.Errorf("%w: %s is neither offer nor answer", ErrUnsupportedSDP, kind)
	}
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(description); err != nil {
		return nil, fmt.Errorf("%w: parse: %w", ErrUnsupportedSDP, err)
	}
	if !strict && len(sd.MediaDescriptions) == 0 {
		return nil, fmt.Errorf("%w: it has no media section", ErrUnsupportedSDP)
	}
	if strict && (len(sd.MediaDescriptions) != 1 || sd.MediaDescriptions[0].MediaName.Media != "application") {
		return nil, fmt.Errorf("%w: it must have exactly one media section, for data channels (m=application); it has %d",
			ErrUnsupportedSDP, len(sd.MediaDescriptions))
	}
	md := sd.MediaDescriptions[0]
	attr := func(key string) (string, bool) {
		if v, ok := md.Attribute(key); ok {
			return v, true
		}
		return sd.Attribute(key)
	}

	b := &Blob{Kind: kind}
	fp, err := sdpFingerprint(&sd, md)
	if err != nil {
		return nil, err
	}
	b.Fingerprint = fp
	if !strict {
		b.Candidates, _ = sdpCandidates(md, false)
		return b, nil
	}

	wantSetup := "actpass"
	if kind == Answer {
		wantSetup = "active"
	}
	if setup, _ := attr("setup"); setup != wantSetup {
		return nil, fmt.Errorf("%w: an %s must have a=setup:%s, not %q (for pion answers, SettingEngine.SetAnsweringDTLSRole(DTLSRoleClient))",
			ErrUnsupportedSDP, kind, wantSetup, setup)
	}
	ufrag, pwd := creds(fp)
	gotUfrag, _ := attr("ice-ufrag")
	gotPwd, _ := attr("ice-pwd")
	if gotUfrag != ufrag || gotPwd != pwd {
		return nil, fmt.Errorf("%w: its ICE credentials are not derived from its fingerprint; the peer must set them to sdpcodec.Credentials(fingerprint) (pion: SettingEngine.SetICECredentials)",
			ErrUnsupportedSDP)
	}

	cands, err := sdpCandidates(md, true)
	if err != nil {
		return nil, err
	}
	b.Candidates = cands
	return b, nil
}

// CandidatesOf returns the candidates of a session description as a blob
// would carry them: those of component 1, in order, without duplicates, up
// to [MaxCandidates]. Errors wrap [ErrUnsupportedSDP].
func CandidatesOf(description string) ([]Candidate, error) {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(description); err != nil {
		return nil, fmt.Errorf("%w: parse: %w", ErrUnsupportedSDP, err)
	}
	if len(sd.MediaDescriptions) == 0 {
		return nil, fmt.Errorf("%w: it has no media section", ErrUnsupportedSDP)
	}
	return sdpCandidates(sd.MediaDescriptions[0], true)
}

// FingerprintOf returns the sha-256 fingerprint of a session description's
// certificate. Errors wrap [ErrUnsupportedSDP].
func FingerprintOf(description string) ([32]byte, error) {
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(description); err != nil {
		return [32]byte{}, fmt.Errorf("%w: parse: %w", ErrUnsupportedSDP, err)
	}
	if len(sd.MediaDescriptions) == 0 {
		return [32]byte{}, fmt.Errorf("%w: it has no media section", ErrUnsupportedSDP)
	}
	return sdpFingerprint(&sd, sd.MediaDescriptions[0])
}

// sdpCandidates returns the candidates of component 1 in order, without
// duplicates, up to [MaxCandidates]. Strict, a candidate it cannot read is
// an error; otherwise it is skipped.
func sdpCandidates(md *sdp.MediaDescription, strict bool) ([]Candidate, error) {
	type key struct {
		transport Transport
		addr      netip.Addr
		host      string
		port      uint16
	}
	var out []Candidate
	seen := make(map[key]bool)
	for _, a := range md.Attributes {
		if !a.IsICECandidate() {
			continue
		}
		c, component, err := parseCandidate(a.Value)
		if err != nil && strict {
			return nil, fmt.Errorf("%w: candidate %q: %w", ErrUnsupportedSDP, a.Value, err)
		}
		if err != nil || component != 1 {
			continue
		}
		k := key{c.Transport, c.Addr, c.Hostname, c.Port}
		if seen[k] {
			continue
		}
		seen[k] = true
		if len(out) < MaxCandidates {
			out = append(out, c)
		}
	}
	return out, nil
}

// sdpFingerprint returns the sha-256 fingerprint of the media section, or of the
// session when the media section has none.
func sdpFingerprint(sd *sdp.SessionDescription, md *sdp.MediaDescription) ([32]byte, error) {
	var fp [32]byte
	var found []string
	for _, attrs := range [][]sdp.Attribute{md.Attributes, sd.Attributes} {
		for _, a := range attrs {
			if a.Key != "fingerprint" {
				continue
			}
			alg, value, _ := strings.Cut(strings.TrimSpace(a.Value), " ")
			if !strings.EqualFold(alg, "sha-256") {
				found = append(found, alg)
				continue
			}
			raw, err := hex.DecodeString(strings.ReplaceAll(strings.TrimSpace(value), ":", ""))
			if err != nil || len(raw) != len(fp) {
				return fp, fmt.Errorf("%w: sha-256 fingerprint %q is not 32 hex bytes", ErrUnsupportedSDP, value)
			}
			copy(fp[:], raw)
			return fp, nil
		}
	}
	if len(found) > 0 {
		return fp, fmt.Errorf("%w: it has no sha-256 fingerprint, only %s", ErrUnsupportedSDP, strings.Join(found, ", "))
	}
	return fp, fmt.Errorf("%w: it has no fingerprint", ErrUnsupportedSDP)
}

// parseCandidate parses the value of an a=candidate attribute with pion's ICE
// parser, as pion's webrtc package does.
func parseCandidate(value string) (Candidate, uint16, error) {
	var c Candidate
	ic, err := ice.UnmarshalCandidate(value)
	if err != nil {
		return c, 0, err
	}
	switch ic.Type() {
	case ice.CandidateTypeHost:
		c.Type = Host
	case ice.CandidateTypeServerReflexive:
		c.Type = Srflx
	case ice.CandidateTypePeerReflexive:
		c.Type = Prflx
	case ice.CandidateTypeRelay:
		c.Type = Relay
	default:
		return c, 0, fmt.Errorf("unknown candidate type %s", ic.Type())
	}
	// pion reports an unresolved mDNS candidate as UDP4 whatever its protocol,
	// so read the protocol field itself: foundation component protocol ...
	// The fields after "typ <type>" are name-value pairs.
	fields := strings.Fields(strings.TrimPrefix(value, "candidate:"))
	if len(fields) < 3 {
		return c, 0, fmt.Errorf("too few fields")
	}
	switch proto := strings.ToLower(fields[2]); proto {
	case "udp":
		c.Transport = UDP
	case "tcp":
		// pion keeps the tcptype of host candidates only, so read it too.
		tcpType := ""
		for i := 3; i+1 < len(fields); i++ {
			if strings.EqualFold(fields[i], "tcptype") {
				tcpType = strings.ToLower(fields[i+1])
			}
		}
		switch tcpType {
		case "active":
			c.Transport = TCPActive
		case "passive":
			c.Transport = TCPPassive
		case "so":
			c.Transport = TCPSO
		default:
			return c, 0, fmt.Errorf("tcp candidate has no tcptype active, passive or so")
		}
	default:
		return c, 0, fmt.Errorf("unsupported transport %q", proto)
	}
	if ic.Port() < 0 || ic.Port() > 0xFFFF {
		return c, 0, fmt.Errorf("port %d is out of range", ic.Port())
	}
	c.Port = uint16(ic.Port())
	address := ic.Address()
	if strings.HasSuffix(strings.ToLower(address), mdnsSuffix) {
		name := strings.ToLower(address)
		if _, ok := parseMDNSName(name); !ok {
			return c, 0, fmt.Errorf("mDNS name %q is not \"<uuid>.local\"", address)
		}
		c.Hostname = name
		return c, ic.Component(), nil
	}
	addr, err := netip.ParseAddr(address)
	if err != nil {
		return c, 0, fmt.Errorf("address %q is neither an IP address nor an mDNS name", address)
	}
	c.Addr = addr.Unmap().WithZone("")
	return c, ic.Component(), nil
}

// CandidateLine returns the value of the SDP attribute for b's candidate at
// index i, as [Blob.SDP] writes it ("candidate:1 1 udp ..."), for adding one
// candidate to a running session.
func (b *Blob) CandidateLine(i int) string {
	return "candidate:" + candidateValue(b.Candidates[i], i)
}
