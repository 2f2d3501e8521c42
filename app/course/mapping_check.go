package course

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// The checks of a mapping (docs/design/mappings.md, "Validation"): L1
// structural (CheckStructure, at submission only), then L3 readiness and
// L2 content (CheckContent, at submission and again whenever a referenced
// material settles). Field names are the API's, since errors and blockers
// are stored and shown as they are.
const (
	FieldPresentation = "presentation_materialentry_id"
	FieldVideo        = "video_materialentry_id"
	FieldSlide        = "slide_number"
	FieldStart        = "video_timecode_start"
	FieldEnd          = "video_timecode_end"
)

// timecodeRe is the strict timecode form: MM:SS or H:MM:SS / HH:MM:SS.
var timecodeRe = regexp.MustCompile(`^([0-9]{1,2}:)?[0-5][0-9]:[0-5][0-9]$`)

// ParseTimecode returns the seconds of a strict timecode.
func ParseTimecode(s string) (int, bool) {
	if !timecodeRe.MatchString(s) {
		return 0, false
	}
	sec := 0
	for _, p := range strings.Split(s, ":") {
		n, _ := strconv.Atoi(p) // the pattern guarantees digits
		sec = sec*60 + n
	}
	return sec, true
}

// MappingMaterial is what the checks need to know of a referenced
// material.
type MappingMaterial struct {
	ID         uuid.UUID
	SourceType SourceType
	Filename   *string
	State      string   // Material.State
	PageCount  *int     // presentation: metadata.page_count of the processed document
	Duration   *float64 // video: the largest end_sec of its chunks
}

func fieldErr(field, msg, hint string) MappingError {
	return MappingError{Field: field, Message: msg, Hint: hint}
}

// CheckStructure runs the structural checks of an entry; inNode finds a
// material of the mapping's node (nil when there is none). The first
// failing check of each field wins. Without errors it returns the mapping
// to store, with its seconds parsed.
func CheckStructure(e MappingEntry, inNode func(uuid.UUID) *MappingMaterial) (*Mapping, []MappingError) {
	var errs []MappingError
	material := func(field, raw string, want SourceType, wrong string) uuid.UUID {
		id, err := uuid.Parse(raw)
		switch {
		case err != nil:
			errs = append(errs, fieldErr(field, "Invalid UUID", "Use the id of a material as the API returned it"))
		case inNode(id) == nil:
			errs = append(errs, fieldErr(field, "Material not found in this node", "Use a material attached to this node"))
		case inNode(id).SourceType != want:
			errs = append(errs, fieldErr(field, wrong, fmt.Sprintf("Use a material with source_type '%s'", want)))
		}
		return id
	}
	m := &Mapping{SlideNumber: e.SlideNumber, Start: e.Start, End: e.End}
	m.PresentationID = material(FieldPresentation, e.PresentationID, SourcePresentation, "Material is not a presentation")
	m.VideoID = material(FieldVideo, e.VideoID, SourceVideo, "Material is not a video")
	const hint = "Use MM:SS or HH:MM:SS"
	start, okStart := ParseTimecode(e.Start)
	if !okStart {
		errs = append(errs, fieldErr(FieldStart, "Invalid timecode format", hint))
	}
	m.StartSec = start
	if e.End != nil {
		end, ok := ParseTimecode(*e.End)
		switch {
		case !ok:
			errs = append(errs, fieldErr(FieldEnd, "Invalid timecode format", hint))
		case okStart && end < start:
			errs = append(errs, fieldErr(FieldEnd, "End timecode is before start timecode", "Use an end at or after the start"))
		}
		m.EndSec = &end
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return m, nil
}

// CheckContent runs the readiness checks (a blocker per referenced
// material that is not ready) and, for ready materials, the content
// checks: the slide within the page count, the timecodes within the
// video's duration.
func CheckContent(m *Mapping, pres, video *MappingMaterial) ([]MappingBlocker, []MappingError) {
	var blockers []MappingBlocker
	var errs []MappingError
	if pres.State != StateReady {
		blockers = append(blockers, blocker(pres, "Presentation", "slide number", FieldSlide))
	} else if pres.PageCount != nil && m.SlideNumber > *pres.PageCount {
		errs = append(errs, fieldErr(FieldSlide, fmt.Sprintf("Slide number exceeds page count (%d)", *pres.PageCount),
			fmt.Sprintf("Use a slide number from 1 to %d", *pres.PageCount)))
	}
	if video.State != StateReady {
		blockers = append(blockers, blocker(video, "Video", "timecodes", FieldStart, FieldEnd))
	} else if video.Duration != nil {
		over := func(field string, sec int) {
			if float64(sec) > *video.Duration {
				errs = append(errs, fieldErr(field, "Timecode exceeds video duration ("+clock(*video.Duration)+")",
					"Use a timecode within the video"))
			}
		}
		over(FieldStart, m.StartSec)
		if m.EndSec != nil {
			over(FieldEnd, *m.EndSec)
		}
	}
	return blockers, errs
}

func blocker(mat *MappingMaterial, kind, checks string, fields ...string) MappingBlocker {
	b := MappingBlocker{Type: BlockerNotReady, MaterialID: mat.ID, Filename: mat.Filename, MaterialState: mat.State,
		BlockedChecks: fields,
		Message:       fmt.Sprintf("%s is not ready yet; %s will be checked after ingestion.", kind, checks)}
	if mat.State == StateError || mat.State == StateIntegrityBroken {
		b.Type = BlockerError
		b.Message = fmt.Sprintf("%s is in state '%s'; %s will be checked after a successful retry.", kind, mat.State, checks)
	}
	return b
}

// clock renders seconds as mm:ss (minutes may exceed 59).
func clock(sec float64) string {
	s := int(sec)
	return fmt.Sprintf("%02d:%02d", s/60, s%60)
}

// Settle sets the state a re-validation leads to: content errors fail the
// mapping (it is kept, as a warning), blockers keep it pending, otherwise
// it is validated.
func (m *Mapping) Settle(blockers []MappingBlocker, errs []MappingError) {
	m.Blockers, m.Errors = blockers, errs
	switch {
	case len(errs) > 0:
		m.State = MappingFailed
	case len(blockers) > 0:
		m.State = MappingPending
	default:
		m.State = MappingValidated
	}
}

// AttachTimecodes gives each chunk of a presentation the refs of the
// validated mappings of its slide (metadata slide_number), ordered by
// start. Chunks without a slide get none.
func AttachTimecodes(chunks []Chunk, mappings []*Mapping) []SlideChunk {
	bySlide := map[int][]TimecodeRef{}
	for _, m := range mappings {
		if m.State != MappingValidated {
			continue
		}
		bySlide[m.SlideNumber] = append(bySlide[m.SlideNumber], TimecodeRef{
			VideoMaterialID: m.VideoID, Start: m.Start, StartSec: m.StartSec, End: m.End, EndSec: m.EndSec})
	}
	for _, refs := range bySlide {
		sort.SliceStable(refs, func(i, j int) bool { return refs[i].StartSec < refs[j].StartSec })
	}
	out := make([]SlideChunk, len(chunks))
	for i, c := range chunks {
		var meta struct {
			SlideNumber int `json:"slide_number"`
		}
		_ = json.Unmarshal(c.Metadata, &meta) // metadata is stored JSON; none means no slide
		out[i] = SlideChunk{Chunk: c, SlideNumber: meta.SlideNumber}
		if meta.SlideNumber > 0 {
			out[i].TimecodeRefs = bySlide[meta.SlideNumber]
		}
	}
	return out
}
