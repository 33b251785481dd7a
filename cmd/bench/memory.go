package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"time"
)

// memoryWatch samples a process's resident memory while the load runs.
type memoryWatch struct {
	done chan struct{}
	peak chan int64
}

// watchMemory samples VmRSS of pid every 100 ms until stop.
func watchMemory(pid int) *memoryWatch {
	w := &memoryWatch{done: make(chan struct{}), peak: make(chan int64, 1)}
	go func() {
		var peak int64
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			peak = max(peak, procStatusKB(pid, "VmRSS"))
			select {
			case <-w.done:
				w.peak <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

// stop ends sampling and returns the largest sample, in kB.
func (w *memoryWatch) stop() int64 {
	close(w.done)
	return <-w.peak
}

// memoryHighWater is the kernel's own peak resident size of pid, in kB.
func memoryHighWater(pid int) int64 { return procStatusKB(pid, "VmHWM") }

// procStatusKB reads one "Name: N kB" field of /proc/pid/status.
func procStatusKB(pid int, field string) int64 {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}
