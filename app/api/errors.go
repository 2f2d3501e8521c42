package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/gofiber/fiber/v2"

	"github.com/course-supporter/course-supporter/app/course"
)

// statusOf is the single map from domain error codes to HTTP statuses.
var statusOf = map[string]int{
	course.EMALFORMED:    http.StatusBadRequest,
	course.EUNSUPPORTED:  http.StatusUnsupportedMediaType,
	course.ENOTFOUND:     http.StatusNotFound,
	course.ECONFLICT:     http.StatusConflict,
	course.EINVALID:      http.StatusUnprocessableEntity,
	course.EUNAUTHORIZED: http.StatusUnauthorized,
	course.EFORBIDDEN:    http.StatusForbidden,
	course.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	course.EUNAVAILABLE:  http.StatusServiceUnavailable,
	course.ERATELIMITED:  http.StatusTooManyRequests,
	course.EINTERNAL:     http.StatusInternalServerError,
}

// errorBody is the one error envelope of the API: {"detail": ...}, where
// detail is a string, or a list of validation items for 422 shape errors.
// It implements huma.StatusError so huma's own errors use it too.
type errorBody struct {
	status int
	Detail any `json:"detail"`
}

func (e *errorBody) Error() string {
	if s, ok := e.Detail.(string); ok {
		return s
	}
	return "validation error"
}

// GetStatus implements huma.StatusError.
func (e *errorBody) GetStatus() int { return e.status }

// ContentType keeps errors plain JSON instead of huma's problem+json.
func (e *errorBody) ContentType(string) string { return "application/json" }

func detail(status int, msg string) *errorBody { return &errorBody{status: status, Detail: msg} }

func init() {
	// Replace huma's problem+json model for every error it raises itself.
	huma.NewError = newHumaError
}

// newHumaError converts huma's errors (validation, malformed bodies) into
// the envelope. Status-specific texts keep huma internals out of replies.
func newHumaError(status int, msg string, errs ...error) huma.StatusError {
	for _, err := range errs {
		var eb *errorBody
		if errors.As(err, &eb) { // already rendered by the error map
			return eb
		}
	}
	items := validationItems(errs)
	switch {
	case status == http.StatusUnprocessableEntity && len(items) > 0:
		return &errorBody{status: status, Detail: items}
	case status == http.StatusBadRequest && len(items) > 0:
		// huma answers 400 for unparsable JSON; the spec calls it a
		// 422 json_invalid validation item.
		return &errorBody{status: http.StatusUnprocessableEntity, Detail: items}
	case status == http.StatusRequestEntityTooLarge:
		return detail(status, "Request body too large")
	case status == http.StatusUnsupportedMediaType:
		return detail(status, "Unsupported Content-Type; use application/json")
	case status >= 500:
		return detail(http.StatusInternalServerError, "Internal server error")
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	return detail(status, msg)
}

// domainError renders any error returned by a handler: domain errors carry
// a client-safe message; everything else is an internal error whose text is
// logged, never sent. A domain error about one field is a one-item
// validation list, like huma's own shape errors.
func domainError(err error) *errorBody {
	var eb *errorBody
	if errors.As(err, &eb) {
		return eb
	}
	code := course.ErrorCode(err)
	if code == course.EINTERNAL && dependencyDown(err) {
		return detail(http.StatusServiceUnavailable, errDependencyDown)
	}
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	var de *course.Error
	if errors.As(err, &de) && de.Field != "" {
		return &errorBody{status: status, Detail: []validationItem{{
			Type: de.Reason, Loc: splitLocation(de.Field), Msg: de.Message, Input: de.Input,
		}}}
	}
	return detail(status, course.ErrorMessage(err))
}

// errorBody renders err for a response. Internal errors are logged with
// the request's logger and answered with a generic 500.
func (s *Server) errorBody(ctx context.Context, err error) *errorBody {
	body := domainError(err)
	if body.status >= 500 {
		log, ok := ctx.Value(localLogger).(*slog.Logger)
		if !ok {
			log = s.deps.Log
		}
		log.ErrorContext(ctx, "unhandled_exception", "error", err)
	}
	return body
}

// register adds an operation whose handler returns domain errors: every
// error goes through the one map above, so no handler renders its own.
func register[I, O any](s *Server, o huma.Operation, h func(context.Context, *I) (*O, error)) {
	huma.Register(s.api, o, func(ctx context.Context, in *I) (*O, error) {
		out, err := h(ctx, in)
		if err != nil {
			return nil, s.errorBody(ctx, err)
		}
		return out, nil
	})
}

// fiberError handles errors that reach fiber itself (unknown routes, body
// limit, handler errors returned outside huma).
func (s *Server) fiberError(c *fiber.Ctx, err error) error {
	var fe *fiber.Error
	var body *errorBody
	switch {
	case errors.As(err, &fe):
		body = detail(fe.Code, fiberMessage(fe))
	default:
		body = domainError(err)
	}
	if body.status >= 500 {
		logger(c, s.deps.Log).Error("unhandled_exception", "error", err)
	}
	return writeJSON(c, body.status, body)
}

func fiberMessage(fe *fiber.Error) string {
	switch fe.Code {
	case http.StatusNotFound:
		return "Not Found"
	case http.StatusRequestEntityTooLarge:
		return "Request body too large"
	case http.StatusMethodNotAllowed:
		return "Method Not Allowed"
	}
	if fe.Code >= 500 {
		return "Internal server error"
	}
	return http.StatusText(fe.Code)
}

func writeJSON(c *fiber.Ctx, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.Status(status)
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(b)
}
