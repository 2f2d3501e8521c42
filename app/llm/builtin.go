package llm

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/course-supporter/course-supporter/app/course"
)

// Builtin is the offline provider (kind builtin, model builtin-outline):
// it builds a CourseStructure from the CourseContext of the request with
// no network and no key, deterministically, at cost 0. Headings, slide
// titles and transcript segments become modules, lessons and concepts.
// It is a real fallback for trying the product without an API key, in no
// shipped chain (docs/design/llm.md, "The builtin provider").
type Builtin struct{}

// Complete outlines req.Context; the prose of the prompt is not read.
func (Builtin) Complete(_ context.Context, _ *ModelSpec, req course.CompletionRequest) (*Reply, error) {
	if len(req.Context) == 0 {
		return nil, permanent("builtin: the request carries no course context", nil)
	}
	var cc course.StructureContext
	if err := json.Unmarshal(req.Context, &cc); err != nil {
		return nil, permanent("builtin: course context is not valid", err)
	}
	out, err := json.Marshal(Outline(cc))
	if err != nil {
		return nil, permanent("builtin: encode outline", err)
	}
	in := utf8.RuneCountInString(req.System) + utf8.RuneCount(req.Context)
	for _, m := range req.Messages {
		for _, p := range m.Parts {
			in += utf8.RuneCountInString(p.Text)
		}
	}
	return &Reply{Text: string(out), UnitsIn: int64((in + 3) / 4), UnitsOut: int64((utf8.RuneCount(out) + 3) / 4)}, nil
}

// Transcribe is not something an offline outline builder can do.
func (Builtin) Transcribe(context.Context, *ModelSpec, course.TranscriptionRequest) (*Reply, error) {
	return nil, permanent("builtin: transcription is not supported", nil)
}

// Embed is not something an offline outline builder can do.
func (Builtin) Embed(context.Context, *ModelSpec, []string) (*Reply, error) {
	return nil, permanent("builtin: embeddings are not supported", nil)
}

// Limits keep the outline readable whatever the input size.
const (
	builtinConceptsPerLesson   = 4
	builtinTranscriptWindow    = 300.0 // seconds of video per lesson
	builtinParagraphsPerLesson = 5
)

// Outline builds the structure: one module per document, lessons from its
// top-level headings, slides, five-minute transcript windows or groups of
// paragraphs, and concepts from sub-headings, slide lines or the first
// sentence of the text.
func Outline(cc course.StructureContext) course.Structure {
	title := strings.TrimSpace(cc.Target.Title)
	if title == "" {
		title = "Course"
	}
	s := course.Structure{Title: title, Description: cc.Target.Description}
	for i, d := range cc.Documents {
		mod := course.Module{Title: firstNonEmpty(d.Title, d.Filename, fmt.Sprintf("Material %d", i+1))}
		switch course.SourceType(d.SourceType) {
		case course.SourceVideo:
			mod.Lessons = transcriptLessons(d.Chunks)
		case course.SourcePresentation:
			mod.Lessons = slideLessons(d.Chunks)
		default:
			mod.Lessons = headingLessons(d.Chunks)
		}
		if len(mod.Lessons) == 0 {
			continue
		}
		mod.Description = describe(d.Chunks)
		s.Modules = append(s.Modules, mod)
	}
	if len(s.Modules) == 0 {
		s.Modules = []course.Module{{Title: title, Lessons: []course.Lesson{{Title: "Overview"}}}}
	}
	finish(&s, len(cc.Documents))
	return s
}

// finish fills the summary and the disjoint concept lists.
func finish(s *course.Structure, docs int) {
	seen := map[string]bool{}
	lessons := 0
	for _, m := range s.Modules {
		for _, l := range m.Lessons {
			lessons++
			if k := conceptKey(l.Title); !seen[k] && len(s.CoreConcepts) < 10 {
				seen[k] = true
				s.CoreConcepts = append(s.CoreConcepts, l.Title)
			}
		}
	}
	for _, m := range s.Modules {
		for _, l := range m.Lessons {
			for _, c := range l.Concepts {
				if k := conceptKey(c.Title); !seen[k] && len(s.MentionedConcepts) < 20 {
					seen[k] = true
					s.MentionedConcepts = append(s.MentionedConcepts, c.Title)
				}
			}
		}
	}
	if s.CoreConcepts == nil {
		s.CoreConcepts = []string{}
	}
	if s.MentionedConcepts == nil {
		s.MentionedConcepts = []string{}
	}
	names := make([]string, 0, len(s.Modules))
	for _, m := range s.Modules {
		names = append(names, m.Title)
	}
	s.Summary = fmt.Sprintf("%s is outlined from %d material(s) without a language model. "+
		"It has %d module(s) and %d lesson(s), taken from the headings, slides and transcript of the materials. "+
		"The modules are: %s.", s.Title, docs, len(s.Modules), lessons, strings.Join(names, "; "))
}

func conceptKey(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// headingLessons: a heading of the document's top level starts a lesson;
// deeper headings are its concepts; text before the first heading is an
// introduction; documents without headings are grouped by paragraphs.
func headingLessons(chunks []course.ContextChunk) []course.Lesson {
	top := 0
	for _, c := range chunks {
		if c.ChunkType == "heading" && c.Metadata.Level != nil && (top == 0 || *c.Metadata.Level < top) {
			top = *c.Metadata.Level
		}
	}
	var (
		lessons []course.Lesson
		texts   []string
	)
	flush := func() {
		if len(lessons) == 0 && len(texts) == 0 {
			return
		}
		if len(lessons) == 0 {
			lessons = append(lessons, course.Lesson{Title: "Introduction"})
		}
		l := &lessons[len(lessons)-1]
		for _, t := range texts {
			if len(l.Concepts) >= builtinConceptsPerLesson {
				break
			}
			if sent := firstSentence(t); sent != "" {
				l.Concepts = append(l.Concepts, course.Concept{Title: words(sent, 8), Definition: sent})
			}
		}
		texts = nil
	}
	for _, c := range chunks {
		text := strings.TrimSpace(c.Text)
		switch {
		case text == "":
		case c.ChunkType == "heading" && top > 0 && c.Metadata.Level != nil && *c.Metadata.Level == top:
			flush()
			lessons = append(lessons, course.Lesson{Title: clip(text, 120)})
		case c.ChunkType == "heading":
			if len(lessons) == 0 {
				lessons = append(lessons, course.Lesson{Title: "Introduction"})
			}
			l := &lessons[len(lessons)-1]
			if len(l.Concepts) < builtinConceptsPerLesson {
				l.Concepts = append(l.Concepts, course.Concept{Title: clip(text, 120)})
			}
		case top == 0 && len(texts) == builtinParagraphsPerLesson:
			flush()
			fallthrough
		case top == 0 && len(texts) == 0:
			lessons = append(lessons, course.Lesson{Title: words(firstSentence(text), 8)})
			texts = append(texts, text)
		default:
			texts = append(texts, text)
		}
	}
	flush()
	return lessons
}

// slideLessons: one lesson per slide, titled by its first line; the next
// lines are its concepts.
func slideLessons(chunks []course.ContextChunk) []course.Lesson {
	var lessons []course.Lesson
	index := map[int]int{}
	for _, c := range chunks {
		n := 0
		if c.Metadata.SlideNumber != nil {
			n = *c.Metadata.SlideNumber
		}
		lines := nonEmptyLines(c.Text)
		if len(lines) == 0 {
			continue
		}
		i, ok := index[n]
		if !ok || n == 0 {
			l := course.Lesson{Title: clip(lines[0], 120)}
			if n > 0 {
				l.SlideRange = &course.SlideRange{Start: n, End: n}
			}
			lessons = append(lessons, l)
			i = len(lessons) - 1
			index[n] = i
			lines = lines[1:]
		}
		l := &lessons[i]
		for _, line := range lines {
			if len(l.Concepts) >= builtinConceptsPerLesson {
				break
			}
			con := course.Concept{Title: words(line, 8), Definition: clip(line, 300)}
			if n > 0 {
				con.SlideReferences = []int{n}
			}
			l.Concepts = append(l.Concepts, con)
		}
	}
	return lessons
}

// transcriptLessons: one lesson per five-minute window of the video, its
// concepts the first sentences of its segments, with their timecodes.
func transcriptLessons(chunks []course.ContextChunk) []course.Lesson {
	var (
		lessons []course.Lesson
		window  = -1
	)
	for _, c := range chunks {
		text := strings.TrimSpace(c.Text)
		if text == "" {
			continue
		}
		start, end := 0.0, 0.0
		if c.Metadata.StartSec != nil {
			start = *c.Metadata.StartSec
		}
		if c.Metadata.EndSec != nil {
			end = *c.Metadata.EndSec
		}
		if w := int(start / builtinTranscriptWindow); w != window || len(lessons) == 0 {
			window = w
			lessons = append(lessons, course.Lesson{
				Title: fmt.Sprintf("Part %d: %s", len(lessons)+1, words(firstSentence(text), 8)), VideoStartTimecode: timecode(start),
			})
		}
		l := &lessons[len(lessons)-1]
		if end > start {
			l.VideoEndTimecode = timecode(end)
		}
		if len(l.Concepts) < builtinConceptsPerLesson {
			if sent := firstSentence(text); sent != "" {
				l.Concepts = append(l.Concepts, course.Concept{Title: words(sent, 8), Definition: sent, Timecodes: []string{timecode(start)}})
			}
		}
	}
	return lessons
}

// timecode renders seconds as MM:SS, or HH:MM:SS from one hour on.
func timecode(sec float64) string {
	s := int(sec)
	if s >= 3600 {
		return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%02d:%02d", s/60, s%60)
}

func describe(chunks []course.ContextChunk) string {
	for _, c := range chunks {
		if c.ChunkType != "heading" && strings.TrimSpace(c.Text) != "" {
			return clip(firstSentence(c.Text), 300)
		}
	}
	return ""
}

func firstSentence(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	for i, r := range s {
		if (r == '.' || r == '!' || r == '?') && (i+1 == len(s) || s[i+1] == ' ') {
			return clip(s[:i+1], 300)
		}
	}
	return clip(s, 300)
}

func words(s string, n int) string {
	f := strings.Fields(strings.TrimRight(s, ".!?"))
	if len(f) > n {
		f = f[:n]
	}
	if len(f) == 0 {
		return "Untitled"
	}
	return clip(strings.Join(f, " "), 120)
}

func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return strings.TrimSpace(string([]rune(s)[:n-1])) + "…"
}

func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.Join(strings.Fields(l), " "); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}
