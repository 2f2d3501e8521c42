package api

import (
	"embed"
	"path"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"
)

// swaggerUI holds the interactive documentation: Swagger UI from
// swagger-ui-dist (see swaggerui/README.md) and a small page of ours. It is
// embedded so /docs works with no network access and loads nothing from
// another host.
//
//go:embed swaggerui/index.html swaggerui/init.js swaggerui/docs.css
//go:embed swaggerui/swagger-ui-bundle.js swaggerui/swagger-ui.css swaggerui/favicon-32x32.png
var swaggerUI embed.FS

// docsCSP confines /docs to this origin. Swagger UI sets style attributes
// ('unsafe-inline' styles) and its stylesheet uses data: images; scripts
// are 'self' only, so the page has no inline script.
const docsCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; " +
	"base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

// docsAssetMaxAge is the Cache-Control of /docs/* assets. They are not
// content-addressed, so the lifetime stays short enough for an upgrade.
const docsAssetMaxAge = "public, max-age=86400"

// docsTypes are the content types of the assets that /docs/* serves; a
// file with any other extension is not served.
var docsTypes = map[string]string{
	".js":  "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
	".png": "image/png",
}

type docsAsset struct {
	body        []byte
	contentType string
}

// docs reads the embedded files on the first /docs request, not at start:
// ReadFile copies, and Swagger UI is 1.9 MB that a process which never
// serves /docs would otherwise carry in its heap (and page in from the
// binary) from the moment it starts (docs/performance.md, "Footprint").
var docs = sync.OnceValues(loadDocs)

// loadDocs reads the embedded files; a missing one is a build defect.
func loadDocs() (index []byte, assets map[string]docsAsset) {
	index, err := swaggerUI.ReadFile("swaggerui/index.html")
	if err != nil {
		panic("api: embedded swagger ui: " + err.Error())
	}
	entries, err := swaggerUI.ReadDir("swaggerui")
	if err != nil {
		panic("api: embedded swagger ui: " + err.Error())
	}
	assets = map[string]docsAsset{}
	for _, e := range entries {
		ct, ok := docsTypes[path.Ext(e.Name())]
		if !ok || e.IsDir() {
			continue
		}
		body, err := swaggerUI.ReadFile("swaggerui/" + e.Name())
		if err != nil {
			panic("api: embedded swagger ui: " + err.Error())
		}
		assets[e.Name()] = docsAsset{body: body, contentType: ct}
	}
	return index, assets
}

// registerDocs serves Swagger UI: GET /docs is the page, GET /docs/<file>
// its assets. The page loads /openapi.json, which huma serves.
func (s *Server) registerDocs() {
	s.app.Get("/docs", func(c *fiber.Ctx) error {
		if strings.HasSuffix(c.Path(), "/") {
			// The page's relative asset paths only resolve from /docs;
			// a relative Location keeps working behind a path prefix.
			return c.Redirect("../docs", fiber.StatusMovedPermanently)
		}
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		c.Set(fiber.HeaderCacheControl, "no-cache")
		c.Set(fiber.HeaderContentSecurityPolicy, docsCSP)
		index, _ := docs()
		return c.Send(index)
	})
	s.app.Get("/docs/*", func(c *fiber.Ctx) error {
		_, assets := docs()
		a, ok := assets[c.Params("*")]
		if !ok {
			return fiber.ErrNotFound
		}
		c.Set(fiber.HeaderContentType, a.contentType)
		c.Set(fiber.HeaderCacheControl, docsAssetMaxAge)
		return c.Send(a.body)
	})
}
