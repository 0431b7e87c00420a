package sdpcodec

import "testing"

func TestCRCCheckValues(t *testing.T) {
	check := []byte("123456789")
	if got := crc8(check); got != 0xF4 {
		t.Errorf("CRC-8/SMBUS check = %#02x, want 0xf4", got)
	}
	if got := crc16(check); got != 0x29B1 {
		t.Errorf("CRC-16/IBM-3740 check = %#04x, want 0x29b1", got)
	}
	if got := crc(32, 0x04C11DB7, 0xFFFFFFFF, check); got != 0x0376E6E7 {
		t.Errorf("CRC-32/MPEG-2 check = %#08x, want 0x0376e6e7", got)
	}
}
