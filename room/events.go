package room

import "pigeon/transfer"

// EventKind says what happened in the room.
type EventKind int

// Kinds of event.
const (
	// Joined: Member joined the room after us ([Guest.Members] lists
	// those that were there).
	Joined EventKind = iota + 1
	// Left: Member left.
	Left
	// Line: Member said Text.
	Line
	// Direct: a direct connection to Member opened, by Path.
	Direct
	// Relayed: Member cannot be reached directly (Text says why): lines
	// to and from it go through the host.
	Relayed
	// Ended: the room is over for us; Text says why, Err is set when it
	// was not the host's choice.
	Ended
	// Offered: Member offers File to the room.
	Offered
	// Declined: Member does not want our File.
	Declined
	// Sending: Member asked for our File, which is on its way.
	Sending
	// Sent: our File reached Member whole (Stats), or did not (Err).
	Sent
	// Received: File from Member arrived whole (Stats), or did not (Err).
	Received
)

// Event is something that happened in the room.
type Event struct {
	Kind   EventKind
	Member Member
	Text   string
	Path   string
	Err    error
	File   File
	Stats  transfer.Stats
}
