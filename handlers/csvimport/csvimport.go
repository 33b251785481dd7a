// Package csvimport reads a CSV lead list of businesses and checks every
// row before anything is written: the header (required, columns in any
// order, unknown ones refused by name), then each row, reporting each bad
// one with its line (the header is line 1), column and reason. The URL and
// phone rules are passed in, so the console, the API and the CLI check
// rows exactly as the business form does. Pure logic, testable alone.
package csvimport

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Columns are the columns an import understands; name and site_url are
// required.
var Columns = []string{"name", "site_url", "city", "phone", "external_id"}

var required = []string{"name", "site_url"}

// MaxRows bounds one import (a larger list is split into several files).
const MaxRows = 200_000

// maxText bounds name, city and external_id, as the business form does.
const maxText = 200

// Rules normalizes the two fields with rules of their own; each returns an
// error whose text is safe to show.
type Rules struct {
	URL   func(raw string) (string, error)
	Phone func(raw string) (string, error)
}

// Row is one good row, normalized. ExternalID "" means none.
type Row struct {
	Line       int
	Name       string
	SiteURL    string
	City       string
	Phone      string
	ExternalID string
}

// Rejection is one bad row (or the header, line 1).
type Rejection struct {
	Line   int    `json:"line"`
	Column string `json:"column"`
	Reason string `json:"reason"`
}

// Result is a file read: its good rows and its rejections, in line order.
// HeaderBad means the file cannot be imported at all, even partially.
type Result struct {
	Rows      []Row
	Rejected  []Rejection
	HeaderBad bool
}

// Read reads and checks the whole file.
func Read(r io.Reader, rules Rules) Result {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // a short or long row is reported, not fatal
	cr.ReuseRecord = true
	var res Result
	index, rej := readHeader(cr)
	if len(rej) > 0 {
		return Result{Rejected: rej, HeaderBad: true}
	}
	seenID := map[string]int{}
	seenPhone := map[string]int{}
	lastErrLine := 0
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var perr *csv.ParseError
		if errors.As(err, &perr) {
			if perr.StartLine == lastErrLine { // the reader cannot get past it
				break
			}
			lastErrLine = perr.StartLine
			res.Rejected = append(res.Rejected, Rejection{Line: perr.StartLine,
				Reason: "not valid CSV: " + perr.Err.Error()})
			continue
		}
		if err != nil {
			res.Rejected = append(res.Rejected, Rejection{Line: lastErrLine + 1, Reason: "the file could not be read: " + err.Error()})
			break
		}
		line, _ := cr.FieldPos(0)
		if len(res.Rows)+len(res.Rejected) >= MaxRows {
			res.Rejected = append(res.Rejected, Rejection{Line: line, Reason: fmt.Sprintf("too many rows: at most %d per import; split the file", MaxRows)})
			res.HeaderBad = true
			break
		}
		if blank(rec) {
			continue
		}
		row, bad := checkRow(rec, index, line, rules)
		if bad != nil {
			res.Rejected = append(res.Rejected, *bad)
			continue
		}
		if bad := duplicate(row, seenID, seenPhone); bad != nil {
			res.Rejected = append(res.Rejected, *bad)
			continue
		}
		res.Rows = append(res.Rows, row)
	}
	return res
}

// readHeader maps each known column to its position.
func readHeader(cr *csv.Reader) (map[string]int, []Rejection) {
	rec, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, []Rejection{{Line: 1, Column: "", Reason: "the file is empty: the first line must be a header naming the columns " + strings.Join(Columns, ", ")}}
	}
	if err != nil {
		return nil, []Rejection{{Line: 1, Reason: "the header is not valid CSV: " + err.Error()}}
	}
	index := map[string]int{}
	var rej []Rejection
	for i, name := range rec {
		if i == 0 {
			name = string(bytes.TrimPrefix([]byte(name), []byte("\uFEFF"))) // Excel's byte order mark
		}
		name = strings.ToLower(strings.TrimSpace(name))
		switch {
		case !known(name):
			rej = append(rej, Rejection{Line: 1, Column: name, Reason: fmt.Sprintf("unknown column %q: the columns are %s", name, strings.Join(Columns, ", "))})
		case hasColumn(index, name):
			rej = append(rej, Rejection{Line: 1, Column: name, Reason: "column " + name + " appears twice"})
		default:
			index[name] = i
		}
	}
	for _, name := range required {
		if _, ok := index[name]; !ok && !slicesContainsColumn(rej, name) {
			rej = append(rej, Rejection{Line: 1, Column: name, Reason: "the header has no " + name + " column, which is required"})
		}
	}
	return index, rej
}

func hasColumn(index map[string]int, name string) bool {
	_, ok := index[name]
	return ok
}

func slicesContainsColumn(rej []Rejection, name string) bool {
	for _, r := range rej {
		if r.Column == name {
			return true
		}
	}
	return false
}

func known(name string) bool {
	for _, c := range Columns {
		if c == name {
			return true
		}
	}
	return false
}

// checkRow normalizes one record, or says what is wrong with it (the
// first fault, in column order).
func checkRow(rec []string, index map[string]int, line int, rules Rules) (Row, *Rejection) {
	if len(rec) != len(index) {
		return Row{}, &Rejection{Line: line, Reason: fmt.Sprintf("the row has %d fields, the header %d", len(rec), len(index))}
	}
	get := func(col string) string {
		if i, ok := index[col]; ok {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	row := Row{Line: line, Name: get("name"), City: get("city"), ExternalID: get("external_id")}
	bad := func(col, format string, args ...any) *Rejection {
		return &Rejection{Line: line, Column: col, Reason: fmt.Sprintf(format, args...)}
	}
	if row.Name == "" {
		return Row{}, bad("name", "name is required")
	}
	for _, col := range []string{"name", "city", "external_id"} {
		if v := get(col); !plainText(v) || utf8.RuneCountInString(v) > maxText {
			return Row{}, bad(col, "%s must be at most %d characters of plain text on one line", col, maxText)
		}
	}
	site := get("site_url")
	if site == "" {
		return Row{}, bad("site_url", "site_url is required")
	}
	var err error
	if row.SiteURL, err = rules.URL(site); err != nil {
		return Row{}, bad("site_url", "%s", err.Error())
	}
	if row.Phone, err = rules.Phone(get("phone")); err != nil {
		return Row{}, bad("phone", "%s", err.Error())
	}
	return row, nil
}

// duplicate refuses a row that names the same business as an earlier row
// of the file (same external_id or, without one, same phone): which of
// the two should win is the user's call.
func duplicate(row Row, seenID, seenPhone map[string]int) *Rejection {
	if row.ExternalID != "" {
		if first, ok := seenID[row.ExternalID]; ok {
			return &Rejection{Line: row.Line, Column: "external_id", Reason: fmt.Sprintf("external_id %q is also on line %d", row.ExternalID, first)}
		}
		seenID[row.ExternalID] = row.Line
		return nil
	}
	if row.Phone != "" {
		if first, ok := seenPhone[row.Phone]; ok {
			return &Rejection{Line: row.Line, Column: "phone", Reason: fmt.Sprintf("phone %s is also on line %d (give each row an external_id to import both)", row.Phone, first)}
		}
		seenPhone[row.Phone] = row.Line
	}
	return nil
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// plainText is valid UTF-8 without control characters (no newline in a
// name), as the business form requires.
func plainText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}
