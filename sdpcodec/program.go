package sdpcodec

import (
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
)

// Program is what [Foreign.Describe] can tell of the program that wrote a
// session description and of how it sets up data channels.
type Program struct {
	// Name guesses the program from the marks each leaves in its
	// descriptions: "pigeon", "Firefox", "a browser built on
	// libwebrtc (Chromium, Chrome, Edge, Safari)", "pion (Go)", or
	// "unknown".
	Name string
	// SCTPPort is the SCTP port of the data channel section (a=sctp-port),
	// 0 when it has none.
	SCTPPort int
	// MaxMessageSize is the largest message the program receives
	// (a=max-message-size), 0 when it does not say; RFC 8841 reads that
	// as 64 KiB.
	MaxMessageSize int
	// Setup is the DTLS role it offers or takes (a=setup): actpass,
	// active or passive.
	Setup string
	// Trickle says whether it announces trickle ICE (a=ice-options:trickle);
	// the description still holds every candidate gathered before it was
	// copied.
	Trickle bool
}

// Describe reads what the description says of its program and its data
// channel setup. Data channels themselves are not in a description: they
// are announced once connected (DCEP, RFC 8832) or agreed on beforehand.
func (f *Foreign) Describe() Program {
	pr := Program{Name: "unknown"}
	var sd sdp.SessionDescription
	if sd.UnmarshalString(f.SDP) != nil || len(sd.MediaDescriptions) == 0 {
		return pr
	}
	md := sd.MediaDescriptions[0]
	for _, m := range sd.MediaDescriptions {
		if m.MediaName.Media == "application" {
			md = m
			break
		}
	}
	attr := func(key string) (string, bool) {
		if v, ok := md.Attribute(key); ok {
			return v, true
		}
		return sd.Attribute(key)
	}
	if v, ok := attr("sctp-port"); ok {
		pr.SCTPPort, _ = strconv.Atoi(v)
	}
	if v, ok := attr("max-message-size"); ok {
		pr.MaxMessageSize, _ = strconv.Atoi(v)
	}
	pr.Setup, _ = attr("setup")
	if v, ok := attr("ice-options"); ok {
		pr.Trickle = strings.Contains(" "+v+" ", " trickle ")
	}
	pr.Name = programName(f, &sd)
	return pr
}

func programName(f *Foreign, sd *sdp.SessionDescription) string {
	if _, ok := f.Pigeon(); ok {
		return "pigeon"
	}
	o := sd.Origin
	// Firefox writes "mozilla...THIS_IS_SDPARTA-99.0" whatever its
	// version (frozen since Firefox 100), so the version says nothing.
	if strings.HasPrefix(o.Username, "mozilla") {
		return "Firefox"
	}
	_, msid := sd.Attribute("msid-semantic")
	switch {
	case o.Username == "-" && o.UnicastAddress == "127.0.0.1" && msid:
		return "a browser built on libwebrtc (Chromium, Chrome, Edge, Safari)"
	case o.Username == "-" && o.UnicastAddress == "0.0.0.0":
		return "pion (Go)"
	}
	return "unknown"
}
