package campaign

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

// rep is shorthand for building long messages in the table.
func rep(s string, n int) string { return strings.Repeat(s, n) }

const emoji = "\U0001F600" // 😀, outside the BMP: 2 UTF-16 units

// Expected values below are worked out by hand (comments show the sums);
// none are derived from Count itself.
var countCases = []struct {
	name string
	msg  string
	want Result
}{
	{"empty", "", Result{0, 0, GSM7, 0, 160, nil}},
	{"single basic", "a", Result{1, 1, GSM7, 1, 160, nil}},

	// GSM-7 single/multi boundaries: 160 | 2*153=306 | 3*153=459.
	{"160 basic", rep("a", 160), Result{160, 160, GSM7, 1, 160, nil}},
	{"161 basic", rep("a", 161), Result{161, 161, GSM7, 2, 153, nil}},
	{"306 basic", rep("a", 306), Result{306, 306, GSM7, 2, 153, nil}},
	{"307 basic", rep("a", 307), Result{307, 307, GSM7, 3, 153, nil}},
	{"459 basic", rep("a", 459), Result{459, 459, GSM7, 3, 153, nil}},
	{"460 basic", rep("a", 460), Result{460, 460, GSM7, 4, 153, nil}},

	// Extension characters cost 2 septets.
	{"80 euro", rep("€", 80), Result{80, 160, GSM7, 1, 160, nil}},
	{"81 euro", rep("€", 81), Result{81, 162, GSM7, 2, 153, nil}},
	{"158 basic + euro", rep("a", 158) + "€", Result{159, 160, GSM7, 1, 160, nil}},
	{"159 basic + euro", rep("a", 159) + "€", Result{160, 161, GSM7, 2, 153, nil}},
	{"all extension chars", "\f^{}\\[]~|€", Result{10, 20, GSM7, 1, 160, nil}},
	// 25 chars, 6 of them extension ({ } € [ ] ~): 25+6=31.
	{"mixed ext", "Price: {10}€ [promo] ~50%", Result{25, 31, GSM7, 1, 160, nil}},

	// Escape pair at the 153 boundary: 152 + 2 would be 154, so € opens part 2.
	// part1=152, part2=2+151=153 -> 2 segments.
	{"escape moved, fits", rep("a", 152) + "€" + rep("a", 151), Result{304, 305, GSM7, 2, 153, nil}},
	// part1=152, part2=2+152=154 -> overflow, 3 segments (naive ceil(306/153)=2).
	{"escape moved, overflows", rep("a", 152) + "€" + rep("a", 152), Result{305, 306, GSM7, 3, 153, nil}},
	// part1=153, part2=2+151=153 -> 2 segments: same 306 septets, no move needed.
	{"escape at part start", rep("a", 153) + "€" + rep("a", 151), Result{305, 306, GSM7, 2, 153, nil}},

	// UCS-2 boundaries: 70 | 2*67=134 | 3*67=201.
	{"70 ucs2", rep("á", 70), Result{70, 70, UCS2, 1, 70, []rune{'á'}}},
	{"71 ucs2", rep("á", 71), Result{71, 71, UCS2, 2, 67, []rune{'á'}}},
	{"134 ucs2", rep("á", 134), Result{134, 134, UCS2, 2, 67, []rune{'á'}}},
	{"135 ucs2", rep("á", 135), Result{135, 135, UCS2, 3, 67, []rune{'á'}}},

	// Emoji outside the BMP cost 2 units.
	{"one emoji", emoji, Result{1, 2, UCS2, 1, 70, []rune{0x1F600}}},
	{"35 emoji", rep(emoji, 35), Result{35, 70, UCS2, 1, 70, []rune{0x1F600}}},
	{"36 emoji", rep(emoji, 36), Result{36, 72, UCS2, 2, 67, []rune{0x1F600}}},

	// Surrogate pair at the 67 boundary.
	// 66+2=68 <= 70: still a single segment.
	{"66 á + emoji single", rep("á", 66) + emoji, Result{67, 68, UCS2, 1, 70, []rune{'á', 0x1F600}}},
	// 66+2+3=71: multi. part1=66 (pair moves), part2=2+3=5 -> 2 segments.
	{"66 á + emoji + 3", rep("á", 66) + emoji + rep("á", 3), Result{70, 71, UCS2, 2, 67, []rune{'á', 0x1F600}}},
	// part1=66, part2=2+66=68 -> overflow, 3 segments (naive ceil(134/67)=2).
	{"pair moved, overflows", rep("á", 66) + emoji + rep("á", 66), Result{133, 134, UCS2, 3, 67, []rune{'á', 0x1F600}}},
	// part1=67, part2=2+65=67 -> 2 segments.
	{"pair at part start", rep("á", 67) + emoji + rep("á", 65), Result{133, 134, UCS2, 2, 67, []rune{'á', 0x1F600}}},

	// Accents: é/è/à/Ç are GSM-7 basic; á/ç/ê are not.
	{"é stays GSM", "Café", Result{4, 4, GSM7, 1, 160, nil}},
	{"é with euro", "Café €5", Result{7, 8, GSM7, 1, 160, nil}},
	{"á forces UCS2", "Está", Result{4, 4, UCS2, 1, 70, []rune{'á'}}},
	{"Ç is GSM", "Ç", Result{1, 1, GSM7, 1, 160, nil}},
	{"ç is not GSM", "ç", Result{1, 1, UCS2, 1, 70, []rune{'ç'}}},
	{"ê is not GSM", "fête", Result{4, 4, UCS2, 1, 70, []rune{'ê'}}},
	{"Greek capital Alpha is not Latin A", "\u0391", Result{1, 1, UCS2, 1, 70, []rune{0x391}}},
	{"backtick is not GSM", "`", Result{1, 1, UCS2, 1, 70, []rune{'`'}}},
	// One non-GSM char switches everything: 159+1=160 units > 70 -> ceil(160/67)=3.
	{"159 basic + á", rep("a", 159) + "á", Result{160, 160, UCS2, 3, 67, []rune{'á'}}},
	// In UCS-2 the euro is a single unit, not an escape pair.
	{"euro in ucs2", "€á", Result{2, 2, UCS2, 1, 70, []rune{'á'}}},

	// NonGSM: distinct, in order, capped at 10.
	{"nonGSM cap", "ááíóúêçâîôûëï", Result{13, 13, UCS2, 1, 70,
		[]rune{'á', 'í', 'ó', 'ú', 'ê', 'ç', 'â', 'î', 'ô', 'û'}}},

	// Control characters.
	{"CR LF", "\r\n", Result{2, 2, GSM7, 1, 160, nil}},
	{"bare escape", "\x1b", Result{1, 1, UCS2, 1, 70, []rune{0x1b}}},
	{"tab", "\t", Result{1, 1, UCS2, 1, 70, []rune{'\t'}}},

	// Invalid UTF-8: each bad byte is one RuneError character, 1 unit.
	{"invalid byte", "\xff", Result{1, 1, UCS2, 1, 70, []rune{utf8.RuneError}}},
	{"invalid bytes mixed", "abc\xffdef\xfe", Result{8, 8, UCS2, 1, 70, []rune{utf8.RuneError}}},
	{"truncated emoji", emoji[:3], Result{3, 3, UCS2, 1, 70, []rune{utf8.RuneError}}},
}

func TestCount(t *testing.T) {
	for _, tc := range countCases {
		t.Run(tc.name, func(t *testing.T) {
			got := Count(tc.msg)
			if got.Characters != tc.want.Characters || got.Units != tc.want.Units ||
				got.Encoding != tc.want.Encoding || got.Segments != tc.want.Segments ||
				got.PerSegment != tc.want.PerSegment || !slices.Equal(got.NonGSM, tc.want.NonGSM) ||
				(got.NonGSM == nil) != (tc.want.NonGSM == nil) {
				t.Errorf("Count(%q)\n got %+v\nwant %+v", truncate(tc.msg), got, tc.want)
			}
		})
	}
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// gsmNonASCII lists the non-ASCII basic-set characters by code point, typed
// independently of the table in segments.go to catch look-alike glyphs
// (e.g. Latin vs Greek capitals).
var gsmNonASCII = []rune{
	0x00A3, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC, 0x00F2, 0x00C7, // £ ¥ è é ù ì ò Ç
	0x00D8, 0x00F8, 0x00C5, 0x00E5, // Ø ø Å å
	0x0394, 0x03A6, 0x0393, 0x039B, 0x03A9, 0x03A0, 0x03A8, 0x03A3, 0x0398, 0x039E, // Δ Φ Γ Λ Ω Π Ψ Σ Θ Ξ
	0x00C6, 0x00E6, 0x00DF, 0x00C9, 0x00A4, 0x00A1, // Æ æ ß É ¤ ¡
	0x00C4, 0x00D6, 0x00D1, 0x00DC, 0x00A7, 0x00BF, // Ä Ö Ñ Ü § ¿
	0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0, // ä ö ñ ü à
}

func TestGSMAlphabet(t *testing.T) {
	check := func(r rune, wantUnits int, wantEnc string) {
		t.Helper()
		got := Count(string(r))
		if got.Units != wantUnits || got.Encoding != wantEnc {
			t.Errorf("Count(%q U+%04X) = %d units %s, want %d %s", r, r, got.Units, got.Encoding, wantUnits, wantEnc)
		}
	}
	for _, r := range gsmNonASCII {
		check(r, 1, GSM7)
	}
	// Printable ASCII: all basic except the 8 extension chars and backtick.
	for r := rune(0x20); r <= 0x7E; r++ {
		switch {
		case strings.ContainsRune("^{}\\[]~|", r):
			check(r, 2, GSM7)
		case r == '`':
			check(r, 1, UCS2)
		default:
			check(r, 1, GSM7)
		}
	}
	check('\n', 1, GSM7)
	check('\r', 1, GSM7)
	check('\f', 2, GSM7)
	check('€', 2, GSM7)

	// 128 table slots minus ESC = 127 basic; 10 extension characters.
	basic, ext := 0, 0
	for _, w := range gsmSeptets {
		if w == 1 {
			basic++
		} else {
			ext++
		}
	}
	if basic != 127 || ext != 10 {
		t.Errorf("table sizes: basic=%d ext=%d, want 127 and 10", basic, ext)
	}
}

// FuzzCount checks invariants that hold for any input.
func FuzzCount(f *testing.F) {
	for _, tc := range countCases {
		f.Add(tc.msg)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		r := Count(msg) // must not panic

		if r.Characters != utf8.RuneCountInString(msg) {
			t.Fatalf("Characters=%d, want %d", r.Characters, utf8.RuneCountInString(msg))
		}
		if msg == "" {
			if r.Segments != 0 || r.Units != 0 || r.Encoding != GSM7 || r.NonGSM != nil {
				t.Fatalf("empty message: %+v", r)
			}
			return
		}
		if r.Segments < 1 {
			t.Fatalf("Segments=%d for non-empty message", r.Segments)
		}
		// Every character costs 1 or 2 units in either encoding.
		if r.Units < r.Characters || r.Units > 2*r.Characters {
			t.Fatalf("Units=%d outside [%d,%d]", r.Units, r.Characters, 2*r.Characters)
		}

		single, multi := 160, 153
		switch r.Encoding {
		case GSM7:
			if r.NonGSM != nil {
				t.Fatalf("GSM-7 with NonGSM=%q", r.NonGSM)
			}
			if want := r.Characters + countExtension(msg); r.Units != want {
				t.Fatalf("GSM-7 Units=%d, want %d", r.Units, want)
			}
		case UCS2:
			single, multi = 70, 67
			checkNonGSM(t, msg, r.NonGSM)
			// []rune maps invalid bytes to U+FFFD (1 unit), matching Count.
			if want := len(utf16.Encode([]rune(msg))); r.Units != want {
				t.Fatalf("UCS-2 Units=%d, want %d", r.Units, want)
			}
		default:
			t.Fatalf("unknown encoding %q", r.Encoding)
		}

		if r.Segments == 1 {
			if r.PerSegment != single || r.Units > single {
				t.Fatalf("single segment: %+v", r)
			}
			return
		}
		if r.PerSegment != multi || r.Units <= single {
			t.Fatalf("multi-part: %+v", r)
		}
		// Units never exceed capacity. Each part but the last was closed only
		// when a 1- or 2-unit char did not fit, so it holds >= multi-1 units;
		// the last holds >= 1.
		if r.Units > r.Segments*multi {
			t.Fatalf("Units=%d exceed %d*%d", r.Units, r.Segments, multi)
		}
		if min := (r.Segments-1)*(multi-1) + 1; r.Units < min {
			t.Fatalf("Units=%d < %d: too many segments (%d)", r.Units, min, r.Segments)
		}
	})
}

func countExtension(msg string) int {
	n := 0
	for _, r := range msg {
		if strings.ContainsRune("\f^{}\\[]~|€", r) {
			n++
		}
	}
	return n
}

// checkNonGSM asserts NonGSM is non-empty, capped, distinct and made of
// runes that actually occur in msg.
func checkNonGSM(t *testing.T, msg string, non []rune) {
	t.Helper()
	if len(non) == 0 || len(non) > 10 {
		t.Fatalf("UCS-2 NonGSM len=%d", len(non))
	}
	for i, r := range non {
		if slices.Contains(non[:i], r) {
			t.Fatalf("duplicate %q in NonGSM", r)
		}
		if !slices.Contains([]rune(msg), r) {
			t.Fatalf("NonGSM %q not in message", r)
		}
	}
}
