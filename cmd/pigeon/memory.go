package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// heapFloor is the memory the garbage collector lets the program use before
// it collects. A transfer allocates a little for every packet inside pion
// (over a gigabyte of garbage per gigabyte sent) while it keeps only a few
// MiB live: with Go's default pacing (collect when the heap doubles) the
// collector then runs about fifty times a second and takes about a sixth of
// the CPU time. Waiting until this floor costs that CPU time four times less
// often and keeps each side of a transfer under 64 MiB resident.
const heapFloor = 40 << 20

var gcOnce sync.Once

// tuneGC sets the collector to run when the memory in use reaches
// heapFloor, or twice the live heap once that is larger (Go's default
// pacing, so that a large live heap does not make it run without pause).
// GOGC or GOMEMLIMIT in the environment leave Go's own settings alone.
func tuneGC() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	gcOnce.Do(func() {
		debug.SetGCPercent(-1)
		debug.SetMemoryLimit(heapFloor)
		afterGC(func() {
			live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
			metrics.Read(live)
			debug.SetMemoryLimit(max(heapFloor, 2*int64(live[0].Value.Uint64())))
		})
	})
}

// shareCores has the Go scheduler use half the machine's cores, when the
// other end of a transfer runs on this machine too. Each Go program
// otherwise schedules its goroutines on every core, and two of them moving
// data between each other spend their time waking threads that find the
// cores taken: on a 2-core machine a 1 GiB transfer took 10 % more CPU time
// and ran 5 to 10 % slower. GOMAXPROCS in the environment is left alone.
func shareCores() {
	if os.Getenv("GOMAXPROCS") != "" {
		return
	}
	runtime.GOMAXPROCS(max(1, runtime.NumCPU()/2))
}

// afterGC calls f after every garbage collection, on a goroutine of its
// own.
func afterGC(f func()) {
	type sentinel struct{ _ *byte } // a pointer, so not a tiny allocation
	var arm func()
	arm = func() {
		runtime.AddCleanup(&sentinel{}, func(struct{}) { f(); arm() }, struct{}{})
	}
	arm()
}
