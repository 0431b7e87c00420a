// Package peer is one end of a pigeon connection: a WebRTC peer whose whole
// session description travels as one [sdpcodec.Blob] carried by hand.
//
// A peer gathers every ICE candidate before it hands out its blob (no
// trickle), gathers host candidates only unless STUN or TURN servers are
// given, waits minutes rather than seconds for a human to carry the answer
// back, and opens its data channel pre-negotiated so no handshake message can
// be lost. The offering side calls [Offer] and later [Peer.Accept]; the
// answering side calls [Answer]. Both then call [Peer.Connect] for a message
// [Conn], and may open more channels with [Peer.OpenChannel] and
// [Peer.AcceptChannel].
//
// The package never prints, exits or reads standard input: it reports through
// [Options.OnState] and returned errors.
package peer
