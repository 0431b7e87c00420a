//go:build unix

package main

import (
	"os"
	"os/signal"
	"syscall"
)

// followSize tells the line editor each new size of the terminal window
// until the console closes.
func (c *console) followSize() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGWINCH)
	defer signal.Stop(ch)
	for {
		select {
		case <-ch:
			c.resize()
		case <-c.stopped:
			return
		}
	}
}
