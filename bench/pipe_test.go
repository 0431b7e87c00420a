package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkPipeVsSend: the same 256 MiB from one process to another over
// loopback, once through `pigeon pipe` (standard input to the standard
// output of `pigeon join`) and once as `pigeon send FILE` to `pigeon join
// --yes`, one after the other in each iteration so that both meet the same
// machine; each is timed from the start of both processes to the end of
// both. It reports both rates and the pipe's rate over send's.
//
//	go test -run '^$' -bench PipeVsSend -benchtime 3x ./bench/
func BenchmarkPipeVsSend(b *testing.B) {
	const size = 256 << 20
	dir := b.TempDir()
	pigeon := build(b, dir, "pigeon/cmd/pigeon")
	src := filepath.Join(dir, "file")
	writeRandom(b, src, size)
	var sendTime, pipeTime time.Duration
	for b.Loop() {
		sendTime += timed(b, func() { sendOnce(b, here, pigeon, dir, src) })
		pipeTime += timed(b, func() { pipeOnce(b, pigeon, dir, src, size) })
	}
	sendRate := float64(size*b.N) / 1e6 / sendTime.Seconds()
	pipeRate := float64(size*b.N) / 1e6 / pipeTime.Seconds()
	b.ReportMetric(sendRate, "send-MB/s")
	b.ReportMetric(pipeRate, "pipe-MB/s")
	b.ReportMetric(pipeRate/sendRate, "pipe/send")
}

// timed runs f and returns how long it took with the benchmark's timer
// running (sendOnce and pipeOnce stop it for their setup).
func timed(b *testing.B, f func()) time.Duration {
	before := b.Elapsed()
	f()
	return b.Elapsed() - before
}

// pipeOnce carries the file at src through `pigeon pipe` to the standard
// output of `pigeon join`, and checks that all of it arrived.
func pipeOnce(b *testing.B, pigeon, dir, src string, size int64) {
	b.Helper()
	b.StopTimer()
	work, offer, answer := runDir(b, dir)
	defer os.RemoveAll(work)
	in, err := os.Open(src)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(filepath.Join(work, "received"))
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	pipe := exec.Command(pigeon, "pipe", "--out", offer, "--in", answer)
	join := exec.Command(pigeon, "join", "--in", offer, "--out", answer)
	pipe.Stdin, join.Stdout = in, out // join's standard input is empty
	runPair(b, pipe, join)
	if info, err := out.Stat(); err != nil || info.Size() != size {
		b.Fatalf("pigeon join wrote %v bytes (%v), want %d", info.Size(), err, size)
	}
	b.ReportMetric(peakMiB(pipe), "pipe-peak-MiB")
	b.ReportMetric(peakMiB(join), "pipe-join-peak-MiB")
	b.StartTimer()
}
