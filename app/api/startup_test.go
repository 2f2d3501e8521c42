package api_test

import (
	"os"
	"runtime"
	"testing"
)

// Ensure building the server does not load the embedded Swagger UI (1.9
// MB): every process would carry it from start, whereas only a /docs
// request needs it (docs/performance.md, "Footprint"). New allocates about
// 1 MiB of its own, less than the bundle alone, so a New that reads the
// bundle fails. TestDocsPage checks that /docs still serves it.
func TestNewLeavesDocsUnloaded(t *testing.T) {
	bundle, err := os.Stat("swaggerui/swagger-ui-bundle.js")
	if err != nil {
		t.Fatal(err)
	}
	productionServer() // warm: package-level state and huma's type caches
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	productionServer()
	runtime.ReadMemStats(&after)
	n := after.TotalAlloc - before.TotalAlloc
	if n >= uint64(bundle.Size()) {
		t.Fatalf("New allocated %.2f MiB, more than the Swagger UI bundle: the docs must load on first use", float64(n)/(1<<20))
	}
	t.Logf("New allocated %.2f MiB", float64(n)/(1<<20))
}
