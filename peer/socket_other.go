//go:build !linux

package peer

import "net"

func gsoSupported(*net.UDPConn) bool { return false }

func gsoControl(int) []byte { return nil }

func isGSOError(error) bool { return true }

const groControlSize = 0

func enableGRO(*net.UDPConn) bool { return false }

func groSize([]byte) int { return 0 }
