package peer

import "github.com/pion/webrtc/v4"

func iceServerFor(scheme, addr string) []webrtc.ICEServer {
	s := webrtc.ICEServer{URLs: []string{scheme + ":" + addr}}
	if scheme == "turn" {
		s.Username, s.Credential = "user", "pass"
	}
	return []webrtc.ICEServer{s}
}
