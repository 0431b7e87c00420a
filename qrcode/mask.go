package qrcode

import (
	"fmt"

	"rsc.io/qr"
	"rsc.io/qr/coding"
)

// rsc.io/qr always applies data mask 0 (its source says "TODO: Pick
// appropriate mask"). The standard has the encoder try all eight masks and
// keep the one whose symbol scores the lowest penalty, because an unlucky
// mask leaves runs and finder-like 1:1:3:1:1 patterns in the data that throw
// detectors off: with mask 0, ZXing fails to find about 1 in 100 blob codes at
// 2 or 3 pixels per module. So encode picks the version and the mode as
// rsc.io/qr does, then builds the symbol with each mask through rsc.io/qr/coding
// and keeps the best.

// encode returns the QR code for text at error correction level L, in the
// smallest version and the densest single mode the text allows (numeric,
// alphanumeric: 0-9, A-Z, space and $%*+-./:, then bytes), with the data mask
// the QR standard's penalty rules choose.
func encode(text string) (*qr.Code, error) {
	plain, err := qr.Encode(text, qr.L)
	if err != nil {
		// rsc.io/qr fails only when no version is large enough.
		return nil, fmt.Errorf("%w: %d characters: %v", ErrTextTooLong, len(text), err)
	}
	version := coding.Version((plain.Size - 17) / 4)
	var enc coding.Encoding // the same choice as qr.Encode's
	switch {
	case coding.Num(text).Check() == nil:
		enc = coding.Num(text)
	case coding.Alpha(text).Check() == nil:
		enc = coding.Alpha(text)
	default:
		enc = coding.String(text)
	}
	var best *coding.Code
	bestScore := 0
	for mask := range coding.Mask(8) {
		plan, err := coding.NewPlan(version, coding.L, mask)
		if err != nil {
			return nil, fmt.Errorf("plan QR code version %d mask %d: %w", version, mask, err)
		}
		code, err := plan.Encode(enc)
		if err != nil {
			return nil, fmt.Errorf("encode QR code version %d mask %d: %w", version, mask, err)
		}
		if score := penalty(code); best == nil || score < bestScore {
			best, bestScore = code, score
		}
	}
	return &qr.Code{Bitmap: best.Bitmap, Size: best.Size, Stride: best.Stride, Scale: 8}, nil
}

// penalty scores a symbol by the four rules of ISO/IEC 18004:2015 section
// 7.8.3.1; lower is easier to scan. Modules outside the symbol are light, as
// the quiet zone is.
func penalty(c *coding.Code) int {
	n := c.Size
	dark := func(x, y int) bool { return c.Black(x, y) } // false outside
	score, darkCount := 0, 0
	for i := range n {
		// Rule 1: a run of k ≥ 5 modules of one colour in a row or column
		// scores 3 + (k-5).
		for _, line := range [2]func(j int) bool{
			func(j int) bool { return dark(j, i) },
			func(j int) bool { return dark(i, j) },
		} {
			run := 1
			for j := 1; j <= n; j++ {
				if j < n && line(j) == line(j-1) {
					run++
					continue
				}
				if run >= 5 {
					score += 3 + run - 5
				}
				run = 1
			}
			// Rule 3: dark-light-dark-dark-dark-light-dark with four light
			// modules before or after it scores 40.
			for j := -4; j < n; j++ {
				if line(j) && !line(j+1) && line(j+2) && line(j+3) && line(j+4) && !line(j+5) && line(j+6) &&
					(allLight(line, j-4, j) || allLight(line, j+7, j+11)) {
					score += 40
				}
			}
		}
		for j := range n {
			if dark(j, i) {
				darkCount++
			}
			// Rule 2: each 2×2 block of one colour scores 3.
			if i+1 < n && j+1 < n {
				d := dark(j, i)
				if dark(j+1, i) == d && dark(j, i+1) == d && dark(j+1, i+1) == d {
					score += 3
				}
			}
		}
	}
	// Rule 4: 10 for every full 5% the share of dark modules is away from 50%.
	percent := darkCount * 100 / (n * n)
	return score + 10*(abs(percent-50)/5)
}

// allLight reports whether modules from to to (exclusive) of a line are light.
func allLight(line func(int) bool, from, to int) bool {
	for j := from; j < to; j++ {
		if line(j) {
			return false
		}
	}
	return true
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
