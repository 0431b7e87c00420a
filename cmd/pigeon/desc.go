package main

import (
	"encoding/base64"
	"errors"
	"strings"

	"pigeon/peer"
	"pigeon/sdpcodec"
)

// desc is a session description as a person brought it: a pigeon blob, or
// another program's description (a browser page, pion's examples).
type desc struct {
	blob    *sdpcodec.Blob
	foreign *sdpcodec.Foreign
}

func (d desc) kind() sdpcodec.Kind {
	if d.foreign != nil {
		return d.foreign.Kind
	}
	return d.blob.Kind
}

// parseDesc reads pasted text: a pigeon blob or, failing that, another
// program's base64 JSON, JSON or raw SDP.
func parseDesc(text string) (desc, error) {
	b, err := sdpcodec.Parse(text)
	if err == nil {
		return desc{blob: b}, nil
	}
	if !errors.Is(err, sdpcodec.ErrNotBlob) {
		return desc{}, err
	}
	f, ferr := sdpcodec.ParseForeign(text)
	if ferr == nil {
		return desc{foreign: f}, nil
	}
	if looksForeign(text) {
		return desc{}, ferr
	}
	return desc{}, err
}

// looksForeign reports whether text starts like another program's
// description, so that its own error explains it best.
func looksForeign(text string) bool {
	t := strings.TrimLeft(text, " \t\r\n\"'`")
	return strings.HasPrefix(t, "{") || strings.HasPrefix(t, "v=0") || strings.HasPrefix(t, "eyJ")
}

// accept applies an answer to our offer.
func (ss *session) accept(d desc) error {
	if d.foreign != nil {
		return ss.p.AcceptForeign(d.foreign)
	}
	return ss.p.Accept(d.blob)
}

// outputFormat is how our description is written for the other side: as
// --format says (checked with the other flags), else in the format of the
// offer we answer, else as a blob.
func (ss *session) outputFormat(answering *desc) sdpcodec.Format {
	switch ss.c.String("format") {
	case "pigeon":
		return sdpcodec.FormatPigeon
	case "json":
		return sdpcodec.FormatBase64JSON
	}
	if answering != nil && answering.foreign != nil {
		return answering.foreign.Format
	}
	return sdpcodec.FormatPigeon
}

// localText writes our description in format.
func localText(p *peer.Peer, format sdpcodec.Format) (string, error) {
	b := p.Local()
	switch format {
	case sdpcodec.FormatBase64JSON:
		return sdpcodec.Base64JSON(b.Kind, b.SDP()), nil
	case sdpcodec.FormatJSON:
		raw, err := base64.StdEncoding.DecodeString(sdpcodec.Base64JSON(b.Kind, b.SDP()))
		return string(raw), err
	case sdpcodec.FormatSDP:
		return b.SDP(), nil
	}
	return b.Encode()
}
