package api

import "github.com/gofiber/fiber/v2"

// cors is a placeholder until the CORS middleware lands.
func (s *Server) cors() fiber.Handler {
	return func(c *fiber.Ctx) error { return c.Next() }
}
