package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/shortlinks/shortlinks/static"
)

// staticFiles serves the embedded assets. Pages link them with their
// content hash (static.URL), so a request carrying the current hash may be
// cached for a year; anything else must revalidate.
func staticFiles() echo.HandlerFunc {
	files := http.FileServerFS(static.FS)
	return func(c echo.Context) error {
		name := c.Param("*")
		hash, ok := static.Hash(name)
		if !ok {
			return echo.NewHTTPError(http.StatusNotFound, "file not found")
		}
		if c.QueryParam("v") == hash {
			c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=31536000, immutable")
		} else {
			c.Response().Header().Set(echo.HeaderCacheControl, "no-cache")
		}
		req := c.Request().Clone(c.Request().Context())
		req.URL.Path = "/" + name
		files.ServeHTTP(c.Response(), req)
		return nil
	}
}
