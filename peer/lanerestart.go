package peer

import (
	"context"
	"strconv"
	"strings"

	"pigeon/peer/internal/link"
)

// Lanes follow the first connection's ICE restarts. When it restarts (its
// addresses changed, it went silent, or the other side asked), the offerer
// restarts the ICE of each lane in use too, with new credentials and the
// host candidates it has now, and sends them over the control channel
// (`lane-restart N {...}`), which the restarted first connection carries as
// soon as it is back; the answerer restarts its side of the lane the same
// way and answers (`lane-restarted N {...}`). DTLS and SCTP above ICE go on
// as they were: what was lost meanwhile is sent again. A lane that does not
// come back fails as any lane does, after the lost timeout.

// Control channel messages of a lane's restart.
const (
	laneRestartPrefix   = "lane-restart "
	laneRestartedPrefix = "lane-restarted "
)

// restartLanes restarts the ICE of every lane in use (offerer).
func (p *Peer) restartLanes() {
	p.mu.Lock()
	var ls []*lane
	for _, l := range p.lanes.all {
		l.mu.Lock()
		if l.opened && l.used && !l.closing {
			ls = append(ls, l)
		}
		l.mu.Unlock()
	}
	p.mu.Unlock()
	for _, l := range ls {
		go p.restartLane(l)
	}
}

// restartLane restarts lane l's ICE and asks the other side to do the same
// (offerer). A lane that cannot restart is left to fail.
func (p *Peer) restartLane(l *lane) {
	l.restartMu.Lock()
	defer l.restartMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), p.opts.LostTimeout)
	defer cancel()
	answers := make(chan string, 1)
	p.mu.Lock()
	rw := p.controlRW
	if p.lanes.answers == nil {
		p.lanes.answers = map[int]chan string{}
	}
	p.lanes.answers[l.id] = answers
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.lanes.answers, l.id)
		p.mu.Unlock()
	}()
	if rw == nil {
		return
	}
	desc, err := l.restartICE(ctx, p)
	if err != nil {
		return
	}
	if _, err := rw.Write([]byte(laneRestartPrefix + strconv.Itoa(l.id) + " " + desc)); err != nil {
		return
	}
	var answer string
	select {
	case answer = <-answers:
	case <-p.done:
		return
	case <-ctx.Done():
		return
	}
	if remote, err := link.ParseDesc(answer); err == nil {
		_ = l.link.Follow(remote)
	}
}

// answerLaneRestart restarts the ICE of the lane the other side restarted
// ("ID DESC") and answers with ours (answerer).
func (p *Peer) answerLaneRestart(msg string) {
	idText, desc, _ := strings.Cut(msg, " ")
	id, err := strconv.Atoi(idText)
	if err != nil {
		return
	}
	remote, err := link.ParseDesc(desc)
	if err != nil {
		return
	}
	p.mu.Lock()
	l := p.lanes.accepted[id]
	rw := p.controlRW
	p.mu.Unlock()
	if l == nil || rw == nil {
		return
	}
	l.restartMu.Lock()
	defer l.restartMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), laneWait)
	defer cancel()
	ours, err := l.restartICE(ctx, p)
	if err != nil || l.link.Follow(remote) != nil {
		return
	}
	_, _ = rw.Write([]byte(laneRestartedPrefix + idText + " " + ours))
}

// restartICE restarts the lane's ICE with fresh credentials and returns
// its new description.
func (l *lane) restartICE(ctx context.Context, p *Peer) (string, error) {
	return l.link.Restart(ctx, p.announcedMTU())
}
