package db

import (
	"crypto/rand"
	"math/big"
	"strings"
)

// Base62 is the default slug alphabet: URL-safe without escaping and easy to
// read out of an SMS.
const Base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// DefaultSlugLength gives 62^6 ≈ 5.7e10 slugs, so collisions stay rare for
// millions of links and the retry below almost never runs.
const DefaultSlugLength = 6

type slugGen struct {
	length   int
	alphabet string
	reserved map[string]bool // lower case
}

// newSlugGen returns a generator of slugs that never equal, in any case, a
// reserved word (the app's own top-level routes, which the caller knows).
func newSlugGen(length int, alphabet string, reserved []string) slugGen {
	if length <= 0 {
		length = DefaultSlugLength
	}
	if alphabet == "" {
		alphabet = Base62
	}
	g := slugGen{length: length, alphabet: alphabet, reserved: map[string]bool{}}
	for _, r := range reserved {
		g.reserved[strings.ToLower(r)] = true
	}
	return g
}

// next returns a uniformly random slug from crypto/rand (rand.Int rejects
// biased values, so no letter is likelier than another).
func (g slugGen) next() (string, error) {
	for {
		var b strings.Builder
		max := big.NewInt(int64(len(g.alphabet)))
		for range g.length {
			n, err := rand.Int(rand.Reader, max)
			if err != nil {
				return "", err
			}
			b.WriteByte(g.alphabet[n.Int64()])
		}
		if s := b.String(); !g.reserved[strings.ToLower(s)] {
			return s, nil
		}
	}
}
