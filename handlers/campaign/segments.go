package campaign

// Segments: how many SMS segments a message needs, following the GSM-7 /
// UCS-2 rules of 3GPP TS 23.038 and TS 23.040 concatenation.

import "unicode/utf8"

// Encoding names as the JSON API returns them.
const (
	// GSM7 is the 7-bit GSM 03.38 default alphabet (basic + extension table).
	GSM7 = "GSM-7"
	// UCS2 is the 16-bit encoding used as soon as any character is outside GSM-7.
	UCS2 = "UCS-2"
)

// Segment capacities. Multi-part messages lose room to the 6-byte
// concatenation header (UDH): 7 septets for GSM-7, 3 code units for UCS-2.
const (
	gsmSingle  = 160
	gsmMulti   = 153
	ucs2Single = 70
	ucs2Multi  = 67

	// maxNonGSM caps Result.NonGSM so a hostile message cannot bloat responses.
	maxNonGSM = 10
)

// gsmBasic is the GSM 03.38 basic character set in table order. Position 0x1B
// (ESC) is deliberately absent: it is the escape prefix, not a character.
const gsmBasic = "@£$¥èéùìòÇ\nØø\rÅå" +
	"Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ" +
	" !\"#¤%&'()*+,-./" +
	"0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNO" +
	"PQRSTUVWXYZÄÖÑÜ§" +
	"¿abcdefghijklmno" +
	"pqrstuvwxyzäöñüà"

// gsmExtension holds the extension-table characters; each is sent as
// ESC + char and therefore costs 2 septets.
const gsmExtension = "\f^{}\\[]~|€"

// gsmSeptets maps every GSM-7 character to its cost in septets.
var gsmSeptets = buildSeptetTable()

func buildSeptetTable() map[rune]int {
	m := make(map[rune]int, 140)
	for _, r := range gsmBasic {
		m[r] = 1
	}
	for _, r := range gsmExtension {
		m[r] = 2
	}
	return m
}

// Result describes how a message is sent.
type Result struct {
	Characters int    // user-perceived length: number of Unicode code points (runes) in the message
	Units      int    // septets for GSM-7, UTF-16 code units for UCS-2
	Encoding   string // GSM7 or UCS2
	Segments   int
	PerSegment int    // capacity per segment actually applied: 160/153 or 70/67
	NonGSM     []rune // distinct characters that forced UCS-2 (first few, in order of appearance, max 10), nil for GSM-7
}

// Count reports the encoding, length and number of SMS segments for msg.
//
// Rules:
//   - If every character is in the GSM 03.38 basic set or extension table the
//     message is GSM-7: basic characters cost 1 septet, extension characters
//     (\f ^ { } \ [ ] ~ | €) cost 2. One segment holds 160 septets; longer
//     messages use 153-septet parts and an escape pair never straddles parts.
//   - Otherwise the whole message is UCS-2, counted in UTF-16 code units
//     (characters outside the BMP, e.g. most emoji, cost 2). One segment
//     holds 70 units; longer messages use 67-unit parts and a surrogate pair
//     never straddles parts.
//   - Lowercase ç is treated as non-GSM (only Ç is in the basic set), even
//     though some encoders silently map ç to Ç; likewise á, í, ó, ú, ê force
//     UCS-2. The bare escape character \x1B is not accepted as text.
//   - Invalid UTF-8 bytes are treated as utf8.RuneError (U+FFFD): non-GSM,
//     1 UTF-16 unit each. Count never panics.
//   - The empty string has Segments 0 (there is nothing to send), encoding
//     GSM7 and PerSegment 160.
func Count(msg string) Result {
	res := Result{
		Characters: utf8.RuneCountInString(msg), // invalid bytes count as 1 each
		Encoding:   GSM7,
		PerSegment: gsmSingle,
	}
	if msg == "" {
		return res
	}

	width, single, multi := gsmWidth, gsmSingle, gsmMulti
	if nonGSM := nonGSMRunes(msg); nonGSM != nil {
		res.Encoding, res.NonGSM = UCS2, nonGSM
		width, single, multi = utf16Width, ucs2Single, ucs2Multi
	}

	res.Units = totalUnits(msg, width)
	if res.Units <= single {
		res.Segments, res.PerSegment = 1, single
		return res
	}
	res.Segments, res.PerSegment = pack(msg, width, multi), multi
	return res
}

// nonGSMRunes returns the distinct characters outside GSM-7 in order of
// first appearance (at most maxNonGSM), or nil if the message is pure GSM-7.
func nonGSMRunes(msg string) []rune {
	var out []rune
	for _, r := range msg {
		if _, ok := gsmSeptets[r]; ok {
			continue
		}
		if len(out) < maxNonGSM && !containsRune(out, r) {
			out = append(out, r)
		}
	}
	return out
}

func containsRune(rs []rune, r rune) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

// gsmWidth is the septet cost of r; only called once r is known to be GSM-7.
func gsmWidth(r rune) int {
	return gsmSeptets[r]
}

// utf16Width is the number of UTF-16 code units for r: 2 for a surrogate
// pair (outside the BMP), otherwise 1. Range never yields lone surrogates.
func utf16Width(r rune) int {
	if r > 0xFFFF {
		return 2
	}
	return 1
}

func totalUnits(msg string, width func(rune) int) int {
	n := 0
	for _, r := range msg {
		n += width(r)
	}
	return n
}

// pack fills parts of size per greedily. A character that does not fit
// whole (an escape pair or surrogate pair with only 1 unit left) starts the
// next part, because splitting it would corrupt the text on the handset.
func pack(msg string, width func(rune) int, per int) int {
	parts, used := 1, 0
	for _, r := range msg {
		w := width(r)
		if used+w > per {
			parts++
			used = 0
		}
		used += w
	}
	return parts
}
