package api

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/course-supporter/course-supporter/app/course"
)

// referenceJSON is what huma's default JSON format (encoding/json, HTML
// escaping off, trailing newline) writes for v: the bytes clients got
// before the append-style writers.
func referenceJSON(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := huma.DefaultJSONFormat.Marshal(&buf, v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// trickyStrings exercise every escaping rule of encoding/json.
var trickyStrings = []string{
	"", "plain text", `quote " and backslash \ and slash /`,
	"<script>alert('x')</script> & &amp;",
	"tab\tnewline\nreturn\rbackspace\bformfeed\f",
	"\x00\x01\x07\x0b\x1b\x1f\x7f",
	"line sep \u2028 paragraph sep \u2029 at the end\u2029",
	"accents é ü ß, CJK 中文, emoji 😀👩‍💻, BOM \ufeff, NEL \u0085, replacement \ufffd",
	"invalid \xff\xfe bytes", "truncated \xe2\x80", "lone surrogate \xed\xa0\x80", "overlong \xc0\xaf",
	"\xe2\x80\xa8", "\xe2\x80\xa9\xe2\x80", string(rune(0x10ffff)),
}

func checkString(t *testing.T, s string) {
	t.Helper()
	want := bytes.TrimSuffix(referenceJSON(t, s), []byte("\n"))
	if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
		t.Errorf("appendJSONString(%q) = %s, encoding/json: %s", s, got, want)
	}
}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range trickyStrings {
		checkString(t, s)
	}
	for b := 0; b < 256; b++ { // every byte, alone and between others
		checkString(t, string([]byte{byte(b)}))
		checkString(t, "a"+string([]byte{byte(b)})+"z")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 { // random bytes: mostly invalid UTF-8 and control bytes
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		checkString(t, string(b))
	}
}

// FuzzAppendJSONString: go test ./app/api -run '^$' -fuzz FuzzAppendJSONString -fuzztime 30s
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range trickyStrings {
		f.Add(s)
	}
	f.Fuzz(checkString)
}

func TestTimestampMatchesLayout(t *testing.T) {
	kyiv := time.FixedZone("UTC+3", 3*3600)
	times := []time.Time{
		{}, time.Unix(0, 0), time.Date(2026, 3, 8, 12, 0, 0, 123456789, time.UTC),
		time.Date(2026, 12, 31, 23, 59, 59, 999999999, kyiv), time.Date(1969, 12, 31, 23, 59, 59, 1000, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(5, 6, 7, 8, 9, 10, 11000, kyiv),
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 1000 {
		times = append(times, time.Unix(rng.Int64N(1<<34)-1<<33, rng.Int64N(1e9)).In(kyiv))
	}
	for _, tm := range times {
		want := `"` + tm.UTC().Format(timestampLayout) + `"`
		if got := appendJSONTimestamp(nil, tm); string(got) != want {
			t.Errorf("appendJSONTimestamp(%v) = %s, want %s", tm, got, want)
		}
		if got := referenceJSON(t, Timestamp(tm)); string(got) != want+"\n" {
			t.Errorf("encoding/json of Timestamp(%v) = %s, want %s", tm, got, want)
		}
	}
}

// toNodeTreeDTO is the conversion the tree endpoint made before
// node_tree.go: the reference its output must match byte for byte.
func toNodeTreeDTO(n *course.Node) NodeTreeResponse {
	t := NodeTreeResponse{NodeResponse: toNodeResponse(n), Children: []NodeTreeResponse{}}
	for _, c := range n.Children {
		t.Children = append(t.Children, toNodeTreeDTO(c))
	}
	return t
}

// trickyTree is a tree whose nodes use every field shape: null and set
// pointers, nil, empty and full lists, strings from trickyStrings.
func trickyTree() *course.Node {
	kyiv := time.FixedZone("UTC+3", 3*3600)
	tenant := uuid.New()
	root := &course.Node{ID: uuid.New(), TenantID: tenant, Title: "root <&>", Order: 0,
		CreatedAt: time.Date(2026, 3, 8, 12, 0, 0, 123456789, time.UTC), UpdatedAt: time.Date(2026, 3, 9, 1, 2, 3, 0, kyiv)}
	for i, s := range trickyStrings {
		parent := root
		if i%3 == 2 {
			parent = root.Children[len(root.Children)-1]
		}
		pid := parent.ID
		n := &course.Node{ID: uuid.New(), TenantID: tenant, ParentID: &pid, Title: s, Order: i * 1000003,
			CreatedAt: time.Unix(int64(i)*86_400_017, int64(i)*1_234_567), UpdatedAt: time.Unix(-int64(i)*1000, 999_999_999).In(kyiv)}
		switch i % 4 {
		case 0:
			n.Description, n.ExpectedKnowledge = &trickyStrings[len(trickyStrings)-1-i], []string{}
		case 1:
			n.LearningGoal, n.ExpectedSkills, n.Fingerprint = &s, []string{s, "", "\u2028"}, strPtr("fp")
		case 2:
			n.ExpectedKnowledge, n.ExpectedSkills = trickyStrings, []string{}
		}
		parent.Children = append(parent.Children, n)
	}
	return root
}

func TestNodeTreeJSONMatchesEncodingJSON(t *testing.T) {
	root := trickyTree()
	want := referenceJSON(t, []NodeTreeResponse{toNodeTreeDTO(root)})
	var got bytes.Buffer
	if err := marshalJSON(&got, nodeTrees{root}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("tree JSON differs from encoding/json:\n got %s\nwant %s", got.Bytes(), want)
	}
	// Pooled buffers are reused: a second, smaller body must not carry
	// bytes of the first.
	leaf := root.Children[1]
	want = referenceJSON(t, []NodeTreeResponse{toNodeTreeDTO(leaf)})
	got.Reset()
	if err := marshalJSON(&got, nodeTrees{leaf}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("second tree differs:\n got %s\nwant %s", got.Bytes(), want)
	}
	// Values that are not appenders still go through encoding/json.
	got.Reset()
	if err := marshalJSON(&got, map[string]string{"a": "<b>"}); err != nil || got.String() != "{\"a\":\"<b>\"}\n" {
		t.Fatalf("fallback: %q %v", got.String(), err)
	}
}
