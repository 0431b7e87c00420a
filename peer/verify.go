package peer

import (
	"time"

	"pigeon/sdpcodec"
)

// VerificationCode is a short code both sides of a connection show: six
// digits derived from the offer's and the answer's DTLS fingerprints. The
// DTLS handshake proves each side holds the certificate its peer's blob
// names, so if a third party swapped a blob on the way, the two sides
// compute their codes from different fingerprints and the codes differ
// (with probability 1 - 10^-6). Comparing them aloud detects the swap.
//
// It is "" until an answer has been applied (offerer) or made (answerer).
func (p *Peer) VerificationCode() string {
	remote := p.Remote()
	if remote == nil {
		return ""
	}
	offer, answer := p.local, remote
	if p.kind == sdpcodec.Answer {
		offer, answer = remote, p.local
	}
	return sdpcodec.VerificationCode(offer.Fingerprint, answer.Fingerprint)
}

// refusedMessage, on the control channel, says the person refused the
// verification code.
const refusedMessage = "verification-code-refused"

// refuseWait bounds how long [Peer.RefuseCode] waits for the control
// channel to open: it opens milliseconds after the data channel.
const refuseWait = 2 * time.Second

// RefuseCode tells the other side that the person here refused the
// verification code, so that it ends with [ErrCodeRefused] rather than
// seeing the connection close for no reason. Close the peer after it: Close
// lets the message reach the other side first. Another program's peer
// (a browser page) is not told.
func (p *Peer) RefuseCode() {
	if !p.restarts() { // no control channel
		return
	}
	t := time.NewTimer(refuseWait)
	defer t.Stop()
	select {
	case <-p.control:
	case <-p.done:
		return
	case <-t.C:
		return
	}
	p.mu.Lock()
	rw := p.controlRW
	p.mu.Unlock()
	_, _ = rw.Write([]byte(refusedMessage))
}

// onVerifyMessage ends the peer with [ErrCodeRefused] when msg says the
// other side refused the code, and reports whether it did.
func (p *Peer) onVerifyMessage(msg string) bool {
	if msg != refusedMessage {
		return false
	}
	p.end(ErrCodeRefused)
	return true
}
