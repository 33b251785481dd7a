package db

import (
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"syscall"
)

// isNetErr reports whether err means the connection to the server failed.
func isNetErr(err error) bool {
	var opErr *net.OpError
	return errors.As(err, &opErr) ||
		errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET)
}
