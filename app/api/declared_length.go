package api

import (
	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// refusedHeader marks, between fasthttp's header callback and the
// handlers, a request whose declared length is over the limit. A client's
// own copy of the header is removed first.
const refusedHeader = "X-Cs-Declared-Too-Large"

// declaredLengthGuard runs right after the request headers are read, before
// fasthttp reads any body: with streamed bodies it otherwise waits for the
// first 8 KiB of the body before a handler can refuse it, so a client
// announcing 1 TiB and sending nothing held the connection for the whole
// read timeout. Over the limit, the body is declared empty (nothing is
// read) and the request marked for refuseDeclared.
func declaredLengthGuard(limit int64) func(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	return func(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
		h.Del(refusedHeader)
		if limit > 0 && int64(h.ContentLength()) > limit {
			h.SetContentLength(0)
			h.Set(refusedHeader, "1")
		}
		return fasthttp.RequestConfig{}
	}
}

// refuseDeclared answers a marked request 413 and closes the connection:
// the unread body must never be parsed as a next request.
func refuseDeclared(c *fiber.Ctx) error {
	if c.Get(refusedHeader) == "" {
		return c.Next()
	}
	c.Context().SetConnectionClose()
	return fiber.ErrRequestEntityTooLarge
}
