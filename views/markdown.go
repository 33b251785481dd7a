package views

import (
	"bytes"
	"context"
	"io"
	"strings"

	"github.com/a-h/templ"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
)

// md renders the OpenAPI document's descriptions (CommonMark, as OpenAPI
// specifies, plus GitHub tables) on the server. Raw HTML in the source is
// dropped and dangerous link schemes (javascript:) are emptied, goldmark's
// safe defaults, so a description can never add script to the page.
var md = goldmark.New(goldmark.WithExtensions(extension.Table, extension.Strikethrough))

// Markdown is source rendered as HTML; a one-paragraph text renders inline
// (without its <p>) so it sits in a table cell or heading like plain text.
func Markdown(source string) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		if strings.TrimSpace(source) == "" {
			return nil
		}
		var buf bytes.Buffer
		if err := md.Convert([]byte(source), &buf); err != nil {
			return err
		}
		out := bytes.TrimSpace(buf.Bytes())
		if inner, ok := singleParagraph(out); ok {
			out = inner
		}
		_, err := w.Write(out)
		return err
	})
}

// singleParagraph returns the inside of html when it is exactly one <p>.
func singleParagraph(html []byte) ([]byte, bool) {
	inner, ok := bytes.CutPrefix(html, []byte("<p>"))
	if !ok {
		return nil, false
	}
	inner, ok = bytes.CutSuffix(inner, []byte("</p>"))
	if !ok || bytes.Contains(inner, []byte("<p>")) {
		return nil, false
	}
	return inner, true
}
