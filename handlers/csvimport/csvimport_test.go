package csvimport

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// rules accepts https URLs (lower-casing them) and phones of digits only.
var rules = Rules{
	URL: func(raw string) (string, error) {
		if !strings.HasPrefix(raw, "https://") {
			return "", errors.New("must start with https://")
		}
		return strings.ToLower(raw), nil
	},
	Phone: func(raw string) (string, error) {
		if strings.Trim(raw, "0123456789") != "" {
			return "", errors.New("not a phone number")
		}
		if raw == "" {
			return "", nil
		}
		return "+" + raw, nil
	},
}

func TestReadReportsEveryBadRowByLineAndColumn(t *testing.T) {
	file := "\uFEFFExternal_ID, name ,site_url,phone\n" +
		"a1,Rosa's Bakery,https://Rosas.example,15551230001\n" +
		"a2,,https://x.example,\n" + // line 3: no name
		"a3,Café Luna,ftp://luna.example,\n" + // line 4: bad URL
		"a4,Luna 2,https://luna.example,12ab\n" + // line 5: bad phone
		"a1,Again,https://again.example,\n" + // line 6: external_id of line 2
		"\"a5\",\"Quoted, with comma\",https://q.example,15551230002\n" +
		"a6,Short row\n" + // line 8: field count
		",Same phone,https://p.example,15551230002\n" + // line 9: phone of line 7, no id... line 7 has an id
		",Same phone twice,https://p2.example,15551230002\n" // line 10: phone of line 9
	res := Read(strings.NewReader(file), rules)
	if res.HeaderBad {
		t.Fatalf("header refused: %+v", res.Rejected)
	}
	var lines []int
	for _, r := range res.Rows {
		lines = append(lines, r.Line)
	}
	if want := []int{2, 7, 9}; !reflect.DeepEqual(lines, want) {
		t.Errorf("good rows at lines %v, want %v", lines, want)
	}
	if r := res.Rows[0]; r.SiteURL != "https://rosas.example" || r.Phone != "+15551230001" || r.ExternalID != "a1" || r.Name != "Rosa's Bakery" {
		t.Errorf("row not normalized: %+v", r)
	}
	if r := res.Rows[1]; r.Name != "Quoted, with comma" {
		t.Errorf("quoted field read as %q", r.Name)
	}
	got := map[int]string{}
	for _, r := range res.Rejected {
		got[r.Line] = r.Column
	}
	want := map[int]string{3: "name", 4: "site_url", 5: "phone", 6: "external_id", 8: "", 10: "phone"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rejections by line %v, want %v (all: %+v)", got, want, res.Rejected)
	}
}

func TestReadRefusesABadHeaderByName(t *testing.T) {
	cases := map[string][]string{
		"":                                  {""},
		"name,site_url,email\n":             {"email"},
		"name,city\n":                       {"site_url"},
		"name,site_url,name\nA,https://a,B": {"name"},
		"site_url,phone,owner,notes\n":      {"owner", "notes", "name"},
	}
	for file, cols := range cases {
		res := Read(strings.NewReader(file), rules)
		var got []string
		for _, r := range res.Rejected {
			if r.Line != 1 {
				t.Errorf("%q: rejection at line %d, want 1", file, r.Line)
			}
			got = append(got, r.Column)
		}
		if !res.HeaderBad || len(res.Rows) != 0 || !reflect.DeepEqual(got, cols) {
			t.Errorf("%q: headerBad=%t rows=%d columns %v, want %v", file, res.HeaderBad, len(res.Rows), got, cols)
		}
	}
}

func TestReadReportsBrokenQuotingAndGoesOn(t *testing.T) {
	file := "name,site_url\n" +
		"Good,https://a.example\n" +
		"\"Broken,https://b.example\n" +
		"Also good,https://c.example\n"
	res := Read(strings.NewReader(file), rules)
	if len(res.Rejected) == 0 || res.Rejected[0].Line != 3 {
		t.Errorf("rejections %+v, want one at line 3", res.Rejected)
	}
	if len(res.Rows) == 0 || res.Rows[0].Line != 2 {
		t.Errorf("rows %+v, want line 2 kept", res.Rows)
	}
}
