package main

import (
	"os"
	"syscall"
	"unsafe"
)

// terminalSentInterrupts reports whether we are in the foreground process
// group of our controlling terminal, the only group that receives the
// terminal's Ctrl-C. Without a terminal (CI), a SIGINT must have been sent
// to us directly and has to be relayed.
func terminalSentInterrupts() bool {
	tty, err := os.Open("/dev/tty")
	if err != nil {
		return false
	}
	defer tty.Close()
	var fg int32
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, tty.Fd(), syscall.TIOCGPGRP, uintptr(unsafe.Pointer(&fg)))
	return errno == 0 && int(fg) == syscall.Getpgrp()
}
