package peer

import (
	"time"

	"github.com/pion/logging"
	"github.com/pion/webrtc/v4"
)

// Defaults for [Options] fields left zero.
const (
	// DefaultGatherTimeout bounds candidate gathering: an unreachable STUN or
	// TURN server delays the blob by at most this much.
	DefaultGatherTimeout = 1500 * time.Millisecond
	// DefaultAnswerWait is how long an answering peer keeps trying to reach the
	// offerer after it made its answer: the time a human may take to carry it.
	DefaultAnswerWait = 15 * time.Minute
	// DefaultConnectTimeout is how long an offering peer waits for the channel
	// to open once it has applied the answer. Both sides are live by then.
	DefaultConnectTimeout = 30 * time.Second
	// DefaultLostTimeout is how long a connected peer may stay silent before it
	// is reported lost.
	DefaultLostTimeout = 8 * time.Second
)

// sctpReceiveBuffer is the SCTP receive window: pion's default (1 MiB)
// caps a transfer's rate over any path with delay.
const sctpReceiveBuffer = 8 << 20

// sctpRTOMax caps SCTP's retransmission back-off (pion's default is 60 s):
// after a link comes back from an outage of a few seconds, data flows again
// within this long instead of after the next doubled timeout.
const sctpRTOMax = 2 * time.Second

// Options configures a [Peer]. The zero value gathers host candidates on
// every non-loopback interface and uses the defaults above.
type Options struct {
	// ICEServers are STUN and TURN servers. With none, only host candidates
	// are gathered and nothing beyond the local networks is contacted.
	ICEServers []webrtc.ICEServer
	// Interfaces restricts gathering to the named network interfaces.
	Interfaces []string
	// Loopback gathers on loopback addresses only (both ends on one machine).
	Loopback bool
	// IPv4Only and IPv6Only restrict the address family of candidates.
	IPv4Only, IPv6Only bool
	// MDNS puts a random name ending in .local in the host candidates
	// instead of their addresses, and answers multicast DNS queries for it
	// on the LAN. Names of the other side's candidates are resolved either
	// way.
	MDNS bool

	// Announce, for an offer made for another program (a browser page),
	// labels a data channel the offer announces as soon as the connection
	// opens, so that the page's ondatachannel fires; the app runs over it
	// if the answer is not a pigeon's. For an answer to another program's
	// offer that announces none, it labels the channel the answer
	// announces ([DefaultAnnounce] if empty). See foreign.go.
	Announce string

	GatherTimeout  time.Duration
	AnswerWait     time.Duration
	ConnectTimeout time.Duration
	LostTimeout    time.Duration
	// ReconnectWait is how long a connection that counts as lost (after
	// LostTimeout) keeps waiting to come back, by itself or through a
	// reconnect blob given to [Peer.Reconnect], before the peer ends with
	// [ErrPeerLost]. Zero: it ends at once.
	ReconnectWait time.Duration

	// LoggerFactory receives pion's logs; nil discards them.
	LoggerFactory logging.LoggerFactory
	// OnState, if set, is called on every state change, one call at a
	// time and in the order of the changes (a change already undone when
	// its turn comes is skipped). It must not block.
	OnState func(State)
	// OnNetworkChange, if set, is called when this computer's addresses
	// changed during the session and ICE restarted for them, with the
	// reconnect blob to carry if the other side was not told in band. It
	// must not block.
	OnNetworkChange func(NetworkChange)
	// OnJoinRefused, if set, is called when an open offer turned a joiner
	// away (see [OfferOpen]), at most every few seconds for the same one.
	// It must not block.
	OnJoinRefused func(JoinRefusal)
}

func (o Options) withDefaults() Options {
	if o.GatherTimeout <= 0 {
		o.GatherTimeout = DefaultGatherTimeout
	}
	if o.AnswerWait <= 0 {
		o.AnswerWait = DefaultAnswerWait
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.LostTimeout <= 0 {
		o.LostTimeout = DefaultLostTimeout
	}
	if o.LoggerFactory == nil {
		o.LoggerFactory = &logging.DefaultLoggerFactory{Writer: discard{}, DefaultLogLevel: logging.LogLevelDisabled}
	}
	return o
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
