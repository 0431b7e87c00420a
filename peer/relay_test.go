package peer

import (
	"errors"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/pion/logging"
	"github.com/pion/webrtc/v4"

	"pigeon/sdpcodec"
)

// TestRelayError: the warnings pion's ICE agent logs when a TURN server
// gives no relayed candidate (formats as in pion/ice v4.4.2 gather.go)
// become a RelayError that names the servers, the kind of failure and its
// cause. The network tests (cmd/pigeon) check the same against real
// servers; this one pins each format.
func TestRelayError(t *testing.T) {
	opts := Options{GatherTimeout: 1500 * time.Millisecond, ICEServers: []webrtc.ICEServer{
		{URLs: []string{"stun:203.0.113.1:3478"}},
		{URLs: []string{"turns:203.0.113.1:5349"}, Username: "u", Credential: "p"},
	}}
	host := &sdpcodec.Blob{Candidates: []sdpcodec.Candidate{{Type: sdpcodec.Host, Addr: netip.MustParseAddr("10.0.0.1"), Port: 1}}}
	cases := []struct {
		name   string
		logs   [][]any // Warnf format and arguments
		reason RelayReason
		causes []string
	}{
		{"no answer", nil, RelayNoAnswer, []string{"no answer within 1.5s"}},
		{"untrusted", [][]any{{"Failed to connect to relay: %v", errors.New("tls: failed to verify certificate: x509: certificate signed by unknown authority")}},
			RelayCertificate, []string{"tls: failed to verify certificate: x509: certificate signed by unknown authority"}},
		{"not TLS", [][]any{{"Failed to connect to relay: %v", errors.New("EOF")}},
			RelayUnreachable, []string{"the server closed the connection during the TLS handshake"}},
		{"refused", [][]any{{"Failed to connect to relay: %v", errors.New("dial tcp4 203.0.113.1:5349: connect: connection refused")}},
			RelayUnreachable, []string{"dial tcp4 203.0.113.1:5349: connect: connection refused"}},
		{"unresolved", [][]any{{"Failed to resolve relay address %s: %v", "turn.invalid:5349", errors.New("lookup turn.invalid: no such host")}},
			RelayUnreachable, []string{"lookup turn.invalid: no such host"}},
		{"allocation", [][]any{{"failed to allocate on TURN client %s %s", "203.0.113.1:3478", errors.New("Allocate error response (error 400: )")}},
			RelayRefused, []string{"the allocation failed: Allocate error response (error 400: )"}},
		{"twice, and unrelated", [][]any{
			{"Failed to connect to relay: %v", errors.New("EOF")},
			{"Failed to discover mDNS candidate %s: %v", "x.local", errors.New("timeout")},
			{"Failed to connect to relay: %v", errors.New("EOF")},
		}, RelayUnreachable, []string{"the server closed the connection during the TLS handshake"}},
	}
	for _, c := range cases {
		log := &relayLog{LoggerFactory: logging.NewDefaultLoggerFactory()}
		ice := log.NewLogger("ice")
		ice.(*relayWatcher).LeveledLogger = discardLogger{}
		for _, l := range c.logs {
			ice.Warnf(l[0].(string), l[1:]...)
		}
		err := relayError(opts, host, log, true)
		var re *RelayError
		if !errors.As(err, &re) {
			t.Errorf("%s: %v, want a RelayError", c.name, err)
			continue
		}
		if re.Reason != c.reason || !slices.Equal(re.Causes, c.causes) || !slices.Equal(re.Servers, []string{"turns:203.0.113.1:5349"}) {
			t.Errorf("%s: got %+v, want reason %d, causes %q", c.name, re, c.reason, c.causes)
		}
		t.Logf("%s: %v", c.name, err)
	}

	relayed := &sdpcodec.Blob{Candidates: append(slices.Clone(host.Candidates), sdpcodec.Candidate{Type: sdpcodec.Relay, Addr: netip.MustParseAddr("203.0.113.1"), Port: 2})}
	if err := relayError(opts, relayed, &relayLog{}, true); err != nil {
		t.Errorf("with a relayed candidate: %v", err)
	}
	stunOnly := opts
	stunOnly.ICEServers = opts.ICEServers[:1]
	if err := relayError(stunOnly, host, &relayLog{}, true); err != nil {
		t.Errorf("with no TURN server: %v", err)
	}
	ended := "TURN server turns:203.0.113.1:5349 gave no relay: gathering ended without one"
	if err := relayError(opts, host, &relayLog{}, false); err == nil || err.Error() != ended {
		t.Errorf("gathering ended in time without a relay and without a cause: %v, want %q", err, ended)
	}
}

type discardLogger struct{ logging.LeveledLogger }

func (discardLogger) Warnf(string, ...any) {}
