//go:build !linux

package peer

import "net"

func gsoSupported(*net.UDPConn) bool { return false }

func gsoControl(int) []byte { return nil }

func isGSOError(error) bool { return true }
