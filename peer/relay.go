package peer

import (
	"fmt"
	"strings"
	"sync"

	"github.com/pion/logging"
	"github.com/pion/stun/v4"

	"pigeon/sdpcodec"
)

// RelayError reports that TURN servers were given but gathering ended
// without a single relayed candidate. The blob still holds the other
// candidates, so the peers may connect anyway when they need no relay.
type RelayError struct {
	Servers []string    // the TURN servers' URLs, without credentials
	Reason  RelayReason // the first failure's kind
	Causes  []string    // what failed, as pion reported it
}

// RelayReason sorts why a TURN server gave no relayed candidate.
type RelayReason int

// Reasons for a [RelayError].
const (
	// RelayNoAnswer: no server answered within the gather timeout.
	RelayNoAnswer RelayReason = iota
	// RelayCertificate: a turns: server's certificate failed verification
	// (an authority this computer does not trust, another name, expired).
	RelayCertificate
	// RelayUnreachable: nothing listens at the address, the name does not
	// resolve, or the server there does not speak the URL's protocol (TLS
	// to a plain TURN port, say).
	RelayUnreachable
	// RelayRefused: the server answered but refused the allocation (wrong
	// user or password, say).
	RelayRefused
	// RelayIPv6Only: only IPv6 was allowed ([Options.IPv6Only]), and pion
	// relays over IPv4 only.
	RelayIPv6Only
	// RelayOther is any other failure.
	RelayOther
)

func (e *RelayError) Error() string {
	servers := "TURN server " + e.Servers[0]
	if len(e.Servers) > 1 {
		servers = "TURN servers " + strings.Join(e.Servers, ", ")
	}
	return servers + " gave no relay: " + strings.Join(e.Causes, "; ")
}

// relayError returns a [*RelayError] if opts name TURN servers but the
// blob has no relayed candidate, with the failures log recorded; timedOut
// says whether gathering was cut short by the gather timeout.
func relayError(opts Options, blob *sdpcodec.Blob, log *relayLog, timedOut bool) error {
	var turns []string
	for _, s := range opts.ICEServers {
		for _, u := range s.URLs {
			if uri, err := stun.ParseURI(u); err == nil && (uri.Scheme == stun.SchemeTypeTURN || uri.Scheme == stun.SchemeTypeTURNS) {
				turns = append(turns, u)
			}
		}
	}
	if len(turns) == 0 {
		return nil
	}
	for _, c := range blob.Candidates {
		if c.Type == sdpcodec.Relay {
			return nil
		}
	}
	e := &RelayError{Servers: turns}
	e.Reason, e.Causes = log.failures()
	switch {
	case len(e.Causes) > 0:
	case opts.IPv6Only:
		// pion/ice v4 gathers relayed candidates over IPv4 only.
		e.Reason, e.Causes = RelayIPv6Only, []string{"TURN works over IPv4 only here"}
	case timedOut:
		e.Reason, e.Causes = RelayNoAnswer, []string{fmt.Sprintf("no answer within %s", opts.GatherTimeout)}
	default:
		e.Reason, e.Causes = RelayOther, []string{"gathering ended without one"}
	}
	return e
}

// relayFailures are the beginnings of the warnings pion's ICE agent logs
// when it gets no relayed candidate from a TURN server (pion/ice v4
// gather.go), each with the reason it means and what to call the cause.
// The cause follows the first ": " (addresses hold ":" but never ": "), or
// with afterAddr the server's address and a space.
var relayFailures = []struct {
	prefix    string
	reason    RelayReason
	afterAddr bool
	what      string
}{
	{"Failed to connect to relay", RelayUnreachable, false, ""}, // or a TLS failure: see reasonOf
	{"Failed to resolve", RelayUnreachable, false, ""},
	{"Failed to dial", RelayUnreachable, false, ""},
	{"Failed to create DTLS client", RelayUnreachable, false, ""},
	{"failed to allocate on TURN client", RelayRefused, true, "the allocation failed: "},
	{"failed to listen on TURN client", RelayOther, true, "the TURN client failed: "},
	{"failed to create new TURN client", RelayOther, true, "the TURN client failed: "},
}

// relayLog wraps a logger factory and keeps the warnings of pion's ICE
// agent that say why a TURN server gave no relayed candidate.
type relayLog struct {
	logging.LoggerFactory

	mu      sync.Mutex
	reasons []RelayReason
	causes  []string
}

func (l *relayLog) NewLogger(scope string) logging.LeveledLogger {
	log := l.LoggerFactory.NewLogger(scope)
	if scope != "ice" {
		return log
	}
	return &relayWatcher{LeveledLogger: log, l: l}
}

func (l *relayLog) record(msg string) {
	for _, f := range relayFailures {
		if !strings.HasPrefix(msg, f.prefix) {
			continue
		}
		cause := strings.TrimSpace(strings.TrimPrefix(msg, f.prefix))
		sep := ": "
		if f.afterAddr {
			sep = " "
		}
		if _, after, ok := strings.Cut(cause, sep); ok {
			cause = after
		}
		if f.reason == RelayUnreachable && cause == "EOF" {
			// The TLS handshake of turns: met a server that does not
			// speak TLS there.
			cause = "the server closed the connection during the TLS handshake"
		}
		cause = f.what + cause
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, c := range l.causes {
			if c == cause {
				return
			}
		}
		l.reasons = append(l.reasons, reasonOf(f.reason, cause))
		l.causes = append(l.causes, cause)
		return
	}
}

// reasonOf refines a reason by its cause: Go's crypto/tls and crypto/x509
// say when a certificate failed verification.
func reasonOf(r RelayReason, cause string) RelayReason {
	if strings.Contains(cause, "x509: ") || strings.Contains(cause, "failed to verify certificate") {
		return RelayCertificate
	}
	return r
}

func (l *relayLog) failures() (RelayReason, []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.causes) == 0 {
		return RelayOther, nil
	}
	return l.reasons[0], append([]string(nil), l.causes...)
}

// relayWatcher is the ICE agent's logger: it logs as it would and hands
// warnings to its relayLog.
type relayWatcher struct {
	logging.LeveledLogger
	l *relayLog
}

func (w *relayWatcher) Warn(msg string) {
	w.l.record(msg)
	w.LeveledLogger.Warn(msg)
}

func (w *relayWatcher) Warnf(format string, args ...any) {
	w.l.record(fmt.Sprintf(format, args...))
	w.LeveledLogger.Warnf(format, args...)
}
