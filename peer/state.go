package peer

// State is what a [Peer] is doing, as reported to [Options.OnState].
type State int

// The states a peer goes through. A peer that connects reports Checking and
// then Connected; it may report Disconnected and Connected again when its
// link drops briefly, and Restarting, Checking and Connected when ICE
// restarts (after a network change; Checking is skipped when the
// connection is back before it is reported); with [Options.ReconnectWait] it reports
// Waiting once the connection counts as lost; it ends in Failed or Closed.
const (
	StateChecking State = iota + 1
	StateConnected
	StateDisconnected
	StateFailed
	StateClosed
	StateRestarting
	StateWaiting
)

func (s State) String() string {
	switch s {
	case StateChecking:
		return "checking"
	case StateConnected:
		return "connected"
	case StateDisconnected:
		return "disconnected"
	case StateFailed:
		return "failed"
	case StateClosed:
		return "closed"
	case StateRestarting:
		return "restarting"
	case StateWaiting:
		return "waiting"
	}
	return "unknown"
}
