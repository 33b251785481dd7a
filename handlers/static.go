package handlers

import (
	"io/fs"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/handlers/web"
	"github.com/shortlinks/shortlinks/static"
)

// Static is GET /static/*. A URL carrying the file's current content hash
// (as static.URL writes it) may be cached for a year; any other URL is
// revalidated, so an old hash can never pin old code in a browser.
func (h *Handlers) Static(c echo.Context) error {
	name := c.Param("*")
	if !fs.ValidPath(name) {
		return web.NotFound("file")
	}
	info, err := fs.Stat(static.FS, name)
	if err != nil || info.IsDir() {
		return web.NotFound("file")
	}
	hash, _ := static.Hash(name)
	if v := c.QueryParam("v"); v != "" && v == hash {
		c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=31536000, immutable")
	} else {
		c.Response().Header().Set(echo.HeaderCacheControl, "no-cache")
	}
	c.Response().Header().Set("ETag", `"`+hash+`"`)
	c.Response().Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeFileFS(c.Response(), c.Request(), static.FS, name)
	return nil
}

// Favicon is GET /favicon.ico, which browsers ask for on their own: the
// embedded SVG icon the pages link to, so no page load logs a 404.
func (h *Handlers) Favicon(c echo.Context) error {
	b, err := fs.ReadFile(static.FS, "img/favicon.svg")
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=86400")
	return c.Blob(http.StatusOK, "image/svg+xml", b)
}
