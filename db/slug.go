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

// reservedSlugs are the app's own top-level routes; a slug equal to one of
// them (in any case) would shadow or be shadowed by that route.
var reservedSlugs = map[string]bool{
	"admin": true, "api": true, "static": true, "healthz": true,
	"readyz": true, "metrics": true, "login": true, "logout": true,
	"favicon": true, "robots": true,
}

// IsReservedSlug reports whether s collides with an app route name.
func IsReservedSlug(s string) bool { return reservedSlugs[strings.ToLower(s)] }

type slugGen struct {
	length   int
	alphabet string
}

func newSlugGen(length int, alphabet string) slugGen {
	if length <= 0 {
		length = DefaultSlugLength
	}
	if alphabet == "" {
		alphabet = Base62
	}
	return slugGen{length: length, alphabet: alphabet}
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
		if s := b.String(); !IsReservedSlug(s) {
			return s, nil
		}
	}
}
