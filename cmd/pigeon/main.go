// Command pigeon connects two computers with WebRTC and no signaling server:
// a person carries one offer and one answer between them by hand.
//
// This package only turns flags into options and terminal I/O into readers
// and writers; the work is done by packages sdpcodec, peer and chat.
package main

import (
	"context"
	"os"
)

func main() { os.Exit(run(context.Background(), os.Args, os.Stdin, os.Stdout, os.Stderr)) }
