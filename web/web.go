// Package web holds pigeon's web page: a full pigeon peer in the browser's
// own RTCPeerConnection, for the other end of a session where pigeon is
// not installed. The page's files are embedded in the binary and served,
// or saved, as one HTML file with its scripts inlined, so it works offline
// and from file:// as well.
package web

import (
	"bytes"
	"embed"
	"fmt"
	"regexp"
	"sync"
)

//go:embed page/index.html page/*.js page/vendor/*.js
var files embed.FS

// scriptTag is how index.html names each of its scripts.
var scriptTag = regexp.MustCompile(`<script src="([^"]+)"></script>`)

var (
	once sync.Once
	page []byte
	err  error
)

// Page returns the page as one HTML file: index.html with each script it
// names inlined in place.
func Page() ([]byte, error) {
	once.Do(func() { page, err = build() })
	return page, err
}

func build() ([]byte, error) {
	index, err := files.ReadFile("page/index.html")
	if err != nil {
		return nil, err
	}
	var failed error
	out := scriptTag.ReplaceAllFunc(index, func(tag []byte) []byte {
		name := string(scriptTag.FindSubmatch(tag)[1])
		js, err := files.ReadFile("page/" + name)
		if err != nil {
			failed = fmt.Errorf("the page names %s, which is not embedded: %w", name, err)
			return tag
		}
		if bytes.Contains(bytes.ToLower(js), []byte("</script")) {
			failed = fmt.Errorf("%s holds </script, which would end its inlined script", name)
			return tag
		}
		var b bytes.Buffer
		fmt.Fprintf(&b, "<script>/* %s */\n", name)
		b.Write(js)
		b.WriteString("\n</script>")
		return b.Bytes()
	})
	if failed != nil {
		return nil, failed
	}
	return out, nil
}
