// Package console holds the web console's templates and static files,
// embedded so the binary serves the console with nothing beside it. The
// handlers live in package server, next to the API they call.
package console

import "embed"

// Files are templates/*.html (html/template, one page each plus the layout)
// and static/ (the stylesheet and the vendored htmx, see static/VENDORED.md).
//
//go:embed templates/*.html static
var Files embed.FS
