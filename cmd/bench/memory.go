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

// processCPU is the user+system CPU time pid has used so far (0 for pid 0
// or an unreadable /proc).
func processCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses and may hold
	// spaces: utime and stime are the 12th and 13th of them, in clock
	// ticks (100 a second on Linux).
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+k) * (time.Second / 100)
}
