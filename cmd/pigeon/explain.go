package main

import (
	"errors"
	"fmt"
	"strings"

	"pigeon/peer"
	"pigeon/qrcode"
	"pigeon/sdpcodec"
	"pigeon/transfer"
)

// explain turns an error into the line a person reads and what to do.
func explain(err error) (msg, hint string) {
	msg = err.Error()
	var (
		ue *usageError
		ve *sdpcodec.VersionError
		ce *peer.ConnectError
		le *listenError
		xe *transfer.ExistsError
		ne *transfer.NameError
		fe *transfer.ConflictError
		pe *transfer.PeerError
		te *transferError
		se *transfer.SpaceError
		ct *terminalCutError
	)
	switch {
	case errors.As(err, &ct):
		hint = "give it to pigeon another way: save it to a file and use --in FILE, pipe it in (pigeon join < offer.txt), or pass it as the argument"
	case errors.As(err, &ue):
		hint = "run `pigeon --help` or `pigeon COMMAND --help` to see how to call it"
	case errors.Is(err, peer.ErrCodeRefused):
		hint = "nothing more was sent or shown; carry new blobs by a channel you trust, and compare the codes again"
	case errors.As(err, &ve):
		hint = "update pigeon on this computer, or check that the whole blob was copied"
	case errors.As(err, &ce):
		switch {
		case ce.DifferentNetworks():
			hint = "the two computers seem to be on different networks: give both sides --stun stun:HOST:PORT, or --turn turn:USER:PASS@HOST:PORT when a firewall blocks direct traffic"
		case ce.Offerer:
			hint = "check that `pigeon join` still runs on the other computer and that no firewall blocks UDP between the two"
		default:
			hint = "carry the answer back sooner, or start again with a new offer"
		}
	case errors.As(err, &xe):
		hint = "nothing was written; give --overwrite to replace them, or --dir to receive into another folder"
	case errors.As(err, &ne):
		hint = "nothing was written: the sender offered a name that is not safe to write here"
	case errors.As(err, &fe):
		hint = "nothing was written; move it out of the way, or give --dir to receive into another folder"
	case errors.As(err, &pe) && pe.Refused:
		hint = "nothing was sent; the other computer says why above: once it is settled there, start again"
	case errors.As(err, &pe):
		hint = "files that arrived whole are kept; sending again finishes the transfer: it skips them and continues a partly received file"
	case errors.Is(err, errNoTerminalToConfirm):
		hint = "give --yes to accept the files without being asked (and --dir DIR for where they go)"
	case errors.Is(err, errDeclined):
		hint = "nothing was written"
	case errors.As(err, &se) && !se.Stream && se.Disk:
		hint = "nothing was written; make room on that disk, or give --dir on another one"
	case errors.As(err, &se) && !se.Stream:
		hint = "nothing was written; give a larger --max-size to accept it"
	case errors.As(err, &se) && se.Disk:
		hint = "files that arrived whole before it are kept; make room on that disk, or give --dir on another one, and send it again"
	case errors.As(err, &se):
		hint = "files that arrived whole before it are kept; give a larger --max-size, and send it again"
	case errors.As(err, &te) && errors.Is(err, peer.ErrPeerLost):
		hint = "the other computer stopped answering (pigeon was closed there, or the network went away): run the same send and join again to finish; files that arrived whole are kept and a partly received one continues where it stopped"
	case errors.Is(err, transfer.ErrIncomplete):
		hint = "the other side went away: run the same commands again to finish; files that arrived whole are kept and a partly received one continues where it stopped"
	case errors.Is(err, transfer.ErrProtocol):
		hint = "the other side is not a compatible pigeon: update both to the same version"
	case errors.Is(err, sdpcodec.ErrEmpty):
		hint = "paste the blob that the other computer printed"
	case errors.Is(err, sdpcodec.ErrNotBlob):
		hint = "a pigeon blob is one line that starts with PIGEON: copy it from the other computer's terminal"
	case errors.Is(err, sdpcodec.ErrForeign):
		hint = "a pigeon blob is one line that starts with PIGEON; from other programs pigeon reads the whole base64 JSON, JSON or SDP of a data-channel session"
	case errors.Is(err, sdpcodec.ErrTruncated):
		hint = "part of the blob was not copied: copy the whole line again (wrapped lines and spaces are fine)"
	case errors.Is(err, sdpcodec.ErrDamaged):
		hint = "a character changed on the way: copy the blob again, or scan its QR code (--qr)"
	case errors.Is(err, sdpcodec.ErrMalformed):
		hint = "it was not made by a compatible pigeon: make a new one with this version"
	case errors.Is(err, sdpcodec.ErrTooLong), errors.Is(err, sdpcodec.ErrMultiple):
		hint = "paste just one blob"
	case errors.Is(err, errTwoBlobs):
		hint = "give pigeon only the blob meant for this session: the latest one the other computer printed"
	case errors.Is(err, peer.ErrNotAnswer):
		hint = "paste the blob that `pigeon join` printed on the other computer"
	case errors.Is(err, peer.ErrOwnOffer):
		hint = "carry this offer to the other computer, run `pigeon join` there, and paste the answer it prints"
	case errors.Is(err, peer.ErrNotOffer):
		hint = "`pigeon join` takes the offer printed by `pigeon chat` on the other computer; this answer goes back to the computer that made the offer"
	case errors.Is(err, peer.ErrOtherOffer):
		hint = "it answers a different offer (another session?): paste the answer made for this session's offer"
	case errors.Is(err, peer.ErrAnswerApplied):
		hint = "nothing to do: the connection is already being made"
	case errors.Is(err, peer.ErrAlreadyAnswered):
		hint = "every peer needs its own offer: start another session for the second peer"
	case errors.Is(err, peer.ErrReconnectBlob):
		hint = "paste a reconnect blob into the chat it belongs to, on the other computer; to start a session, use the offer that `pigeon chat` (or send, pipe, share) prints"
	case errors.Is(err, peer.ErrOwnReconnect):
		hint = "carry it to the other computer and paste it into the chat there"
	case errors.Is(err, peer.ErrOtherSession):
		hint = "it was made by another session's pigeon: paste the reconnect blob the other computer of this chat printed"
	case errors.Is(err, peer.ErrStaleReconnect):
		hint = "nothing changed: the other computer printed a newer one; paste that"
	case errors.Is(err, peer.ErrCannotReconnect):
		hint = "the other side is a browser or another program: start a new session"
	case errors.Is(err, peer.ErrPeerLost):
		hint = "the other computer stopped answering: pigeon was closed there, or the network between the two went away"
	case errors.Is(err, qrcode.ErrNoCode):
		hint = "make sure the whole QR code is in the picture, sharp, and not too small; or copy the blob as text"
	case errors.Is(err, qrcode.ErrNotImage), errors.Is(err, qrcode.ErrTooLarge):
		hint = "give a PNG or JPEG screenshot or photo of the QR code, or the blob as text"
	case errors.Is(err, errNotVerified):
		hint = "nothing was sent or shown; carry new blobs by a channel you trust, and compare the codes again"
	case errors.Is(err, errNeedsPigeon):
		hint = "run `pigeon join` on the other computer; with a browser page or another WebRTC program, pigeon can only chat (`pigeon chat --format json`, or `pigeon join` with its offer)"
	case errors.Is(err, errListenNotShare):
		hint = "give --listen only to join an offer made by `pigeon share`; join this one without it"
	case errors.As(err, &le):
		hint = "give --listen another HOST:PORT that is free here (port 0 picks a free one)"
	case errors.Is(err, errUnsupportedApp):
		hint = "update pigeon on this computer"
	}
	return msg, hint
}

// warnGather says in one line what went wrong while p gathered its
// candidates, if anything did, and what to do. The session goes on: the
// blob holds the candidates that were gathered.
func warnGather(s *streams, p *peer.Peer) {
	err := p.GatherError()
	if err == nil {
		return
	}
	msg := err.Error()
	var re *peer.RelayError
	if errors.As(err, &re) {
		msg += "; " + relayHint(re)
	}
	fmt.Fprintf(s.errOut, "pigeon: warning: %s\n", msg)
}

// relayHint is what to do about TURN servers that gave no relay.
func relayHint(e *peer.RelayError) string {
	cause := strings.Join(e.Causes, "; ")
	switch e.Reason {
	case peer.RelayCertificate:
		switch {
		case strings.Contains(cause, "unknown authority"):
			return "if you trust that server, set SSL_CERT_FILE to the certificate (PEM) of the authority that signed its certificate"
		case strings.Contains(cause, "valid for"), strings.Contains(cause, "IP SANs"):
			return "give the server by a name or address its certificate is valid for"
		}
		return "check the server's certificate, and this computer's clock"
	case peer.RelayUnreachable:
		return "check the server's address and port, and the scheme: turns: for TLS (usually port 5349), turn: without (usually 3478)"
	case peer.RelayRefused:
		return "check the user and password"
	case peer.RelayNoAnswer:
		return "check the server's address and port, and that no firewall blocks the way to it"
	case peer.RelayIPv6Only:
		return "leave out --ipv6 to relay over IPv4"
	}
	return "run with -v to see what the TURN client did"
}
