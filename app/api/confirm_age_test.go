package api_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/course-supporter/course-supporter/app/intake"
	"github.com/course-supporter/course-supporter/app/internal/testfiles"
)

// Ensure a presigned upload older than ConfirmWithin (derived from the
// orphan sweep's grace) is refused like a missing one, so no row is ever
// created for an object the sweep may be deleting, while a younger one is
// confirmed.
func TestConfirmRefusesUploadsTooOldForTheSweep(t *testing.T) {
	t.Parallel()
	s := mustStack(t).withIntake(func(o *intake.Options) { o.ConfirmWithin = time.Second })
	tenant, key := s.tenantWithKey("acme")
	node := s.mustCreate(key, "", "Course")
	pdf := testfiles.PDF("Old slide")
	store := func(name string) string {
		k := fmt.Sprintf("tenants/%s/nodes/%s/%s/deck.pdf", tenant, node, name)
		if _, err := s.store.Upload(context.Background(), k, "application/pdf", bytes.NewReader(pdf)); err != nil {
			t.Fatal(err)
		}
		return k
	}
	confirm := func(k string) reply {
		return s.call(http.MethodPost, "/api/v1/nodes/"+node+"/materials/confirm-upload", key,
			map[string]any{"key": k, "source_type": "presentation"})
	}
	old := store("old")
	time.Sleep(2100 * time.Millisecond) // Last-Modified has whole seconds
	if r := confirm(old); r.Status != 404 || r.detail(t) != "File not found in S3. Upload may have failed or expired." {
		t.Fatalf("old upload: %d %s", r.Status, r.Raw)
	}
	if n := s.count(`SELECT count(*) FROM material_entries WHERE storage_key = $1`, old); n != 0 {
		t.Fatal("a row for an object older than ConfirmWithin")
	}
	s.withIntake(func(o *intake.Options) { o.ConfirmWithin = time.Hour })
	if r := confirm(store("young")); r.Status != 201 {
		t.Fatalf("young upload: %d %s", r.Status, r.Raw)
	}
}
