package main

import (
	"encoding/base64"
	"fmt"

	"pigeon/peer"
	"pigeon/sdpcodec"
)

// desc is a session description as a person brought it: a pigeon blob, or
// another program's description (a browser page, pion's examples). A
// pigeon's description written in another program's format is a blob.
type desc struct {
	blob    *sdpcodec.Blob
	foreign *sdpcodec.Foreign
	format  sdpcodec.Format // as the other side wrote it
}

func (d desc) kind() sdpcodec.Kind {
	if d.foreign != nil {
		return d.foreign.Kind
	}
	return d.blob.Kind
}

// parseDesc reads pasted text: a pigeon blob, or another program's base64
// JSON, JSON or raw SDP. The format is told from how the text starts, so a
// browser's description of any length is read as one, not refused for
// being longer than a blob.
func parseDesc(text string) (desc, error) {
	switch format := sdpcodec.Recognize(text); format {
	case sdpcodec.FormatBase64JSON, sdpcodec.FormatJSON, sdpcodec.FormatSDP:
		f, err := sdpcodec.ParseForeign(text)
		if err != nil {
			return desc{}, err
		}
		if b, ok := f.Pigeon(); ok {
			return desc{blob: b, format: f.Format}, nil
		}
		return desc{foreign: f, format: f.Format}, nil
	}
	b, err := sdpcodec.Parse(text)
	if err != nil {
		return desc{}, err
	}
	return desc{blob: b, format: sdpcodec.FormatPigeon}, nil
}

// accept applies an answer to our offer. Only a chat runs with another
// program than pigeon.
func (ss *session) accept(d desc) error {
	if d.foreign == nil {
		return ss.p.Accept(d.blob)
	}
	if app := ss.p.Local().App; app != sdpcodec.AppChat {
		return fmt.Errorf("%w: the answer comes from %s, and `pigeon %s` needs pigeon at the other end", errNeedsPigeon, d.foreign.Describe().Name, app)
	}
	if err := ss.p.AcceptForeign(d.foreign); err != nil {
		return err
	}
	ss.foreign = d.foreign
	return nil
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
	if answering != nil && answering.format != 0 {
		return answering.format
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
