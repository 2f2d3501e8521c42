package course

import "strings"

// SourceType is the kind of a material's source. The list below is the
// only place the four kinds are spelled out: the API's schema enums, the
// upload allowlists and the processors all derive from it
// (docs/design/data-model.md, "Materials").
type SourceType string

// Source types of a material.
const (
	SourceVideo        SourceType = "video"
	SourcePresentation SourceType = "presentation"
	SourceText         SourceType = "text"
	SourceWeb          SourceType = "web"
)

// SourceTypes lists every source type in its canonical order.
var SourceTypes = []SourceType{SourceVideo, SourcePresentation, SourceText, SourceWeb}

// Valid reports whether t is one of SourceTypes.
func (t SourceType) Valid() bool {
	for _, s := range SourceTypes {
		if t == s {
			return true
		}
	}
	return false
}

// AcceptsFiles reports whether materials of this type may be stored files;
// web materials are always URLs.
func (t SourceType) AcceptsFiles() bool { return t.Valid() && t != SourceWeb }

// SourceTypeNames returns the source types as strings, for schemas.
func SourceTypeNames() []string {
	out := make([]string, len(SourceTypes))
	for i, t := range SourceTypes {
		out[i] = string(t)
	}
	return out
}

// SourceTypeChoices renders the source types as in validation messages:
// 'video', 'presentation', 'text' or 'web'.
func SourceTypeChoices() string {
	q := make([]string, len(SourceTypes))
	for i, t := range SourceTypes {
		q[i] = "'" + string(t) + "'"
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}
