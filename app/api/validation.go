package api

import (
	"errors"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

// validationItem is one entry of a 422 shape error.
type validationItem struct {
	Type  string         `json:"type"`
	Loc   []string       `json:"loc"`
	Msg   string         `json:"msg"`
	Input any            `json:"input,omitempty"`
	Ctx   map[string]any `json:"ctx,omitempty"`
}

// itemTypes classifies huma's validation messages into the documented
// type vocabulary; the first matching fragment wins.
var itemTypes = []struct{ fragment, typ string }{
	{"required property", "missing"},
	{"required", "missing"},
	{"length >=", "string_too_short"},
	{"length <=", "string_too_long"},
	{"match pattern", "string_pattern_mismatch"},
	{"uuid", "uuid_parsing"},
	{"one of", "enum"},
	{"expected number >=", "greater_than_equal"},
	{"expected number <=", "less_than_equal"},
	{"integer", "int_parsing"},
	{"unmarshal", "json_invalid"},
	{"json", "json_invalid"},
	{"invalid character", "json_invalid"},
	{"unexpected end", "json_invalid"},
}

func validationItems(errs []error) []validationItem {
	var items []validationItem
	for _, err := range errs {
		if err == nil {
			continue
		}
		var d *huma.ErrorDetail
		if !errors.As(err, &d) {
			d = &huma.ErrorDetail{Message: err.Error(), Location: "body"}
		}
		items = append(items, toItem(d))
	}
	return items
}

func toItem(d *huma.ErrorDetail) validationItem {
	loc := splitLocation(d.Location)
	msg := d.Message
	lower := strings.ToLower(msg)
	typ := "value_error"
	for _, t := range itemTypes {
		if strings.Contains(lower, t.fragment) {
			typ = t.typ
			break
		}
	}
	if typ == "json_invalid" {
		// Decoder messages can quote the input; keep the reply generic.
		msg = "Invalid JSON body"
		loc = []string{"body"}
	}
	item := validationItem{Type: typ, Loc: loc, Msg: msg}
	if typ != "missing" && typ != "json_invalid" {
		item.Input = d.Value
	}
	return item
}

// splitLocation turns "body.items[3].title" into ["body","items","3","title"].
func splitLocation(loc string) []string {
	if loc == "" {
		return []string{"body"}
	}
	loc = strings.NewReplacer("[", ".", "]", "").Replace(loc)
	var parts []string
	for _, p := range strings.Split(loc, ".") {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return parts
}
