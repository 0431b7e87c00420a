package peer

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"pigeon/peer/internal/hostnet"
	"pigeon/sdpcodec"
)

// Errors from [Answer] and [Peer.Accept] when a person brings the wrong blob.
// None of them harms the waiting peer: it can still accept the right one.
var (
	ErrNotOffer        = errors.New("this is an answer, but an offer was expected")
	ErrNotAnswer       = errors.New("this is an offer, but an answer was expected")
	ErrOwnOffer        = errors.New("this is our own offer, pasted back")
	ErrOtherOffer      = errors.New("this answer belongs to another offer")
	ErrAnswerApplied   = errors.New("this answer was already applied")
	ErrAlreadyAnswered = errors.New("this offer was already answered by another peer")
	ErrReconnectBlob   = errors.New("this is a reconnect blob, for a session that is already running")
	ErrPageOpen        = errors.New("this answer comes from pigeon's page, which cannot join an open offer: make an offer without --open for it")
)

// Errors that end a session.
var (
	// ErrPeerLost means the connected peer stopped answering: it was killed,
	// or the network between the two went away.
	ErrPeerLost = errors.New("lost the connection to the peer")
	// ErrPeerClosed means the peer closed the connection.
	ErrPeerClosed = errors.New("the peer closed the connection")
	// ErrClosed means the peer was closed locally.
	ErrClosed = errors.New("connection closed")
	// ErrCodeRefused means the person on the other side said the
	// verification code differs (see [Peer.RefuseCode]).
	ErrCodeRefused = errors.New("the other person refused the verification code: a blob may have been swapped on the way")
)

// ErrChannelClosed is returned by [Conn.WriteMessage] on a channel that was
// closed locally.
var ErrChannelClosed = errors.New("channel closed")

// ConnectError reports a connection that did not form. It carries both
// candidate lists so the caller can say why.
type ConnectError struct {
	Offerer bool          // whether we made the offer
	Waited  time.Duration // how long we tried
	Local   []sdpcodec.Candidate
	Remote  []sdpcodec.Candidate
}

func (e *ConnectError) Error() string {
	if e.Offerer {
		return fmt.Sprintf("could not connect to the peer within %s", e.Waited.Round(time.Second))
	}
	return fmt.Sprintf("the offering peer did not connect within %s of the answer", e.Waited.Round(time.Second))
}

// DifferentNetworks reports whether the candidates show the two peers on
// different networks with no way across: no remote host address lies in a
// subnet of a local interface, and neither side has a server-reflexive or
// relayed candidate.
func (e *ConnectError) DifferentNetworks() bool {
	return differentNetworks(localPrefixes(), e.Local, e.Remote)
}

func differentNetworks(local []netip.Prefix, ours, theirs []sdpcodec.Candidate) bool {
	for _, c := range append(append([]sdpcodec.Candidate{}, ours...), theirs...) {
		if c.Type == sdpcodec.Srflx || c.Type == sdpcodec.Relay {
			return false
		}
	}
	for _, c := range theirs {
		if !c.Addr.IsValid() {
			return false // an mDNS name: cannot tell
		}
		for _, p := range local {
			if p.Contains(c.Addr) {
				return false
			}
		}
	}
	return len(theirs) > 0
}

// localPrefixes lists the subnets of this machine's interfaces.
func localPrefixes() []netip.Prefix {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []netip.Prefix
	for _, a := range addrs {
		if p, ok := hostnet.PrefixOf(a); ok {
			out = append(out, p.Masked())
		}
	}
	return out
}
