package sdpcodec

// crc computes an MSB-first (non-reflected) CRC of the given width (8 to 32
// bits), polynomial and initial value, without a final XOR.
func crc(width uint, poly, init uint32, data []byte) uint32 {
	top := uint32(1) << (width - 1)
	mask := top<<1 - 1 // works for width 32 too: top<<1 wraps to 0
	sum := init & mask
	for _, b := range data {
		sum ^= uint32(b) << (width - 8)
		for range 8 {
			if sum&top != 0 {
				sum = sum<<1 ^ poly
			} else {
				sum <<= 1
			}
		}
		sum &= mask
	}
	return sum
}

// crc8 is CRC-8/SMBUS, the first trailer byte of offers.
func crc8(data []byte) byte { return byte(crc(8, 0x07, 0x00, data)) }

// crc16 is CRC-16/IBM-3740 (also called CRC-16/CCITT-FALSE), the checksum that
// ends every blob.
func crc16(data []byte) uint16 { return uint16(crc(16, 0x1021, 0xFFFF, data)) }
