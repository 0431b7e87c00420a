// Command pionoffer is the baseline for pigeon's start-up benchmark: a peer
// configured with pion's defaults, as in pion's examples, that prints its
// offer (base64 of the JSON session description) once gathering completes,
// then waits to be killed.
package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"

	"github.com/pion/webrtc/v4"
)

func main() {
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if _, err := pc.CreateDataChannel("data", nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	<-gathered
	blob, _ := json.Marshal(pc.LocalDescription())
	fmt.Fprintln(os.Stderr, base64.StdEncoding.EncodeToString(blob))
	select {}
}
