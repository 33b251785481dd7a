//go:build !linux

package main

// terminalSentInterrupts cannot ask the terminal here, so it assumes a
// SIGINT was sent to us alone and must be relayed; a program in the child
// that exits on a second Ctrl-C then exits at once.
func terminalSentInterrupts() bool { return false }
