package api_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/course-supporter/course-supporter/app/api"
	"github.com/course-supporter/course-supporter/app/logging"
)

// The committed OpenAPI document, docs/api/openapi.json, is what API
// clients and the documentation site read without running the service.
// TestOpenAPIDocIsCurrent fails whenever it differs from the document the
// code generates. After changing a route or a schema, regenerate it with
// plain go (no Makefile needed) and commit the result:
//
//	go test ./app/api -run TestOpenAPIDocIsCurrent -update
//
// The flag exists only in this package, so pass it to ./app/api alone,
// not to ./... .
var update = flag.Bool("update", false, "rewrite docs/api/openapi.json from the code instead of comparing")

const openAPIDocPath = "../../docs/api/openapi.json"

// productionServer builds the server as app/cmd/course-supporter serve
// does, with the configuration defaults. The services are nil: building
// the document registers the operations but calls no handler. The version
// is fixed to the binary's default ("dev") so the document does not change
// with every release.
func productionServer() *api.Server {
	log := logging.New(io.Discard, logging.Options{Format: "json", Level: "error"})
	return api.New(api.Deps{Log: log}, api.Options{
		Version:          "dev",
		JSONBodyMax:      1 << 20,
		ReadTimeout:      905 * time.Second,
		WriteTimeout:     905 * time.Second,
		IdleTimeout:      120 * time.Second,
		ShutdownTimeout:  30 * time.Second,
		RateLimitEnabled: true,
		CORS:             corsDefaults(),
	})
}

// Ensure docs/api/openapi.json is exactly the document the code generates.
func TestOpenAPIDocIsCurrent(t *testing.T) {
	got, err := json.MarshalIndent(productionServer().OpenAPI(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')

	if *update {
		if err := os.MkdirAll(filepath.Dir(openAPIDocPath), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(openAPIDocPath, got, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes)", openAPIDocPath, len(got))
		return
	}

	want, err := os.ReadFile(openAPIDocPath)
	if err != nil {
		t.Fatalf("read the committed document: %v\nCreate it with: go test ./app/api -run TestOpenAPIDocIsCurrent -update", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("docs/api/openapi.json is out of date (%s).\n"+
			"Regenerate it with: go test ./app/api -run TestOpenAPIDocIsCurrent -update\n"+
			"and commit the result.", firstDifference(want, got))
	}
}

// firstDifference names the first line where the committed document and
// the generated one differ, so the failure says what changed.
func firstDifference(committed, generated []byte) string {
	a := bytes.Split(committed, []byte("\n"))
	b := bytes.Split(generated, []byte("\n"))
	for i := 0; i < len(a) || i < len(b); i++ {
		var la, lb []byte
		if i < len(a) {
			la = a[i]
		}
		if i < len(b) {
			lb = b[i]
		}
		if !bytes.Equal(la, lb) {
			return fmt.Sprintf("first difference at line %d: committed %s, generated %s", i+1, clipLine(la), clipLine(lb))
		}
	}
	return "no line differs"
}

func clipLine(b []byte) string {
	const maxLen = 120
	s := string(bytes.TrimSpace(b))
	if len(s) > maxLen {
		s = s[:maxLen] + "…"
	}
	return "`" + s + "`"
}
