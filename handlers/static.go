package handlers

import (
	"fmt"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/static"
)

// StaticFile is GET /static/*: the embedded CSS and JavaScript. Pages link
// them with their content hash (static.URL), and a request carrying the
// current hash may be cached for a year; any other is revalidated.
func (h *Handlers) StaticFile(c echo.Context) error {
	name := c.Param("*")
	hash, ok := static.Hash(name)
	if !ok {
		return &APIError{Status: http.StatusNotFound, Code: "not_found", Message: "no such file"}
	}
	cache := "no-cache"
	if c.QueryParam("v") == hash {
		cache = "public, max-age=31536000, immutable"
	}
	c.Response().Header().Set(echo.HeaderCacheControl, cache)
	c.Response().Header().Set("X-Content-Type-Options", "nosniff")
	f, err := static.FS.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	rs, ok := f.(io.ReadSeeker)
	if !ok {
		return fmt.Errorf("static: %s cannot seek", name)
	}
	http.ServeContent(c.Response(), c.Request(), info.Name(), info.ModTime(), rs)
	return nil
}
