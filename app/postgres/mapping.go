package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/course-supporter/course-supporter/app/course"
)

// mappingRow is the slide_video_mappings row.
type mappingRow struct {
	ID             uuid.UUID  `gorm:"column:id;primaryKey"`
	NodeID         uuid.UUID  `gorm:"column:materialnode_id"`
	PresentationID uuid.UUID  `gorm:"column:presentation_materialentry_id"`
	VideoID        uuid.UUID  `gorm:"column:video_materialentry_id"`
	SlideNumber    int        `gorm:"column:slide_number"`
	Start          string     `gorm:"column:video_timecode_start"`
	StartSec       int        `gorm:"column:video_timecode_start_sec"`
	End            *string    `gorm:"column:video_timecode_end"`
	EndSec         *int       `gorm:"column:video_timecode_end_sec"`
	State          string     `gorm:"column:validation_state"`
	Blockers       []byte     `gorm:"column:blocking_factors"`
	Errors         []byte     `gorm:"column:validation_errors"`
	ValidatedAt    *time.Time `gorm:"column:validated_at"`
	CreatedAt      time.Time  `gorm:"column:created_at"`
}

func (mappingRow) TableName() string { return "slide_video_mappings" }

// blockerJSON and errorJSON are the stored shapes of the jsonb columns.
type blockerJSON struct {
	Type          string    `json:"type"`
	MaterialID    uuid.UUID `json:"material_entry_id"`
	Filename      *string   `json:"filename"`
	MaterialState string    `json:"material_state"`
	Message       string    `json:"message"`
	BlockedChecks []string  `json:"blocked_checks"`
}

type errorJSON struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	Hint    string `json:"hint"`
}

func toMapping(r *mappingRow) *course.Mapping {
	m := &course.Mapping{
		ID: r.ID, NodeID: r.NodeID, PresentationID: r.PresentationID, VideoID: r.VideoID,
		SlideNumber: r.SlideNumber, Start: r.Start, StartSec: r.StartSec, End: r.End, EndSec: r.EndSec,
		State: r.State, ValidatedAt: utc(r.ValidatedAt), CreatedAt: r.CreatedAt.UTC(),
	}
	var bs []blockerJSON
	if len(r.Blockers) > 0 && json.Unmarshal(r.Blockers, &bs) == nil {
		for _, b := range bs {
			m.Blockers = append(m.Blockers, course.MappingBlocker(b))
		}
	}
	var es []errorJSON
	if len(r.Errors) > 0 && json.Unmarshal(r.Errors, &es) == nil {
		for _, e := range es {
			m.Errors = append(m.Errors, course.MappingError(e))
		}
	}
	return m
}

// checkColumns renders a mapping's blockers and errors for the jsonb
// columns: nil (NULL) when there are none.
func checkColumns(m *course.Mapping) (blockers, errs *string, err error) {
	if blockers, err = jsonColumn(m.Blockers, func(b course.MappingBlocker) blockerJSON { return blockerJSON(b) }); err != nil {
		return nil, nil, err
	}
	if errs, err = jsonColumn(m.Errors, func(e course.MappingError) errorJSON { return errorJSON(e) }); err != nil {
		return nil, nil, err
	}
	return blockers, errs, nil
}

// jsonColumn encodes items in their stored shape; nil when there are none.
func jsonColumn[T, U any](items []T, stored func(T) U) (*string, error) {
	if len(items) == 0 {
		return nil, nil
	}
	out := make([]U, len(items))
	for i, it := range items {
		out[i] = stored(it)
	}
	raw, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("encode mapping checks: %w", err)
	}
	s := string(raw)
	return &s, nil
}

// MappingStore implements course.MappingService and course.SlideTimecodes.
type MappingStore struct{ db *DB }

var (
	_ course.MappingService = (*MappingStore)(nil)
	_ course.SlideTimecodes = (*MappingStore)(nil)
)

// NewMappingStore returns a MappingStore on db.
func NewMappingStore(db *DB) *MappingStore { return &MappingStore{db: db} }

func errMappingNotFound() error { return course.Errorf(course.ENOTFOUND, "Mapping not found") }

// CreateMappings checks every entry and stores those that pass, in one
// transaction (docs/design/mappings.md, "Creating"). The tree lock orders
// the batch against node deletion and other batches; the node's
// referenced materials are share-locked, so an ingest finishing meanwhile
// either commits first (and this batch sees the material ready) or waits
// and then re-validates the rows stored here.
func (s *MappingStore) CreateMappings(ctx context.Context, tenantID, nodeID uuid.UUID, entries []course.MappingEntry) (*course.MappingBatch, error) {
	if err := course.CheckBatchSize(len(entries)); err != nil {
		return nil, err
	}
	batch := &course.MappingBatch{}
	err := inTreeTx(ctx, s.db, tenantID, func(tx *gorm.DB) error {
		if _, err := load(tx, tenantID, nodeID); err != nil {
			return err
		}
		facts, err := nodeMaterialFacts(tx, tenantID, nodeID, referencedIDs(entries))
		if err != nil {
			return err
		}
		seen, err := existingKeys(tx, nodeID)
		if err != nil {
			return err
		}
		inNode := func(id uuid.UUID) *course.MappingMaterial { return facts[id] }
		for i, e := range entries {
			m, errs := course.CheckStructure(e, inNode)
			if errs == nil && seen[m.Key()] {
				batch.Skipped = append(batch.Skipped, course.MappingSkip{Index: i, Hint: course.MappingSkipHint})
				continue
			}
			if errs == nil {
				var blockers []course.MappingBlocker
				blockers, errs = course.CheckContent(m, facts[m.PresentationID], facts[m.VideoID])
				m.Settle(blockers, nil)
			}
			if errs != nil {
				batch.Rejected = append(batch.Rejected, course.MappingRejection{Index: i, Errors: errs})
				continue
			}
			seen[m.Key()] = true
			m.NodeID = nodeID
			stored, err := insertMapping(tx, m)
			if err != nil {
				return err
			}
			if stored == nil { // a concurrent batch stored the same key first
				batch.Skipped = append(batch.Skipped, course.MappingSkip{Index: i, Hint: course.MappingSkipHint})
				continue
			}
			batch.Created = append(batch.Created, stored)
		}
		if len(batch.Created) == 0 {
			return nil
		}
		return invalidateChain(tx, tenantID, nodeID)
	})
	if err != nil {
		return nil, err
	}
	return batch, nil
}

// referencedIDs lists the parsable material ids of the entries.
func referencedIDs(entries []course.MappingEntry) []uuid.UUID {
	set := map[uuid.UUID]bool{}
	for _, e := range entries {
		for _, raw := range []string{e.PresentationID, e.VideoID} {
			if id, err := uuid.Parse(raw); err == nil {
				set[id] = true
			}
		}
	}
	ids := make([]uuid.UUID, 0, len(set))
	for id := range set {
		ids = append(ids, id)
	}
	return ids
}

// existingKeys returns the natural keys of the node's stored mappings.
func existingKeys(tx *gorm.DB, nodeID uuid.UUID) (map[course.MappingKey]bool, error) {
	var keys []struct {
		PresentationMaterialentryID uuid.UUID
		VideoMaterialentryID        uuid.UUID
		SlideNumber                 int
		VideoTimecodeStartSec       int
	}
	if err := tx.Raw(`SELECT presentation_materialentry_id, video_materialentry_id, slide_number, video_timecode_start_sec
		FROM slide_video_mappings WHERE materialnode_id = ?`, nodeID).Scan(&keys).Error; err != nil {
		return nil, fmt.Errorf("load mapping keys: %w", err)
	}
	seen := make(map[course.MappingKey]bool, len(keys))
	for _, k := range keys {
		seen[course.MappingKey{PresentationID: k.PresentationMaterialentryID, VideoID: k.VideoMaterialentryID,
			SlideNumber: k.SlideNumber, StartSec: k.VideoTimecodeStartSec}] = true
	}
	return seen, nil
}

// insertMapping stores m unless its natural key exists; nil then.
func insertMapping(tx *gorm.DB, m *course.Mapping) (*course.Mapping, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("new mapping id: %w", err)
	}
	blockers, _, err := checkColumns(m)
	if err != nil {
		return nil, err
	}
	var rows []mappingRow
	err = tx.Raw(`INSERT INTO slide_video_mappings (id, materialnode_id, presentation_materialentry_id,
			video_materialentry_id, slide_number, video_timecode_start, video_timecode_start_sec,
			video_timecode_end, video_timecode_end_sec, validation_state, blocking_factors, validated_at)
		VALUES (@id, @node, @pres, @video, @slide, @start, @startSec, @end, @endSec,
			CAST(@state AS mapping_validation_state_enum), CAST(@blockers AS jsonb),
			CASE WHEN @state = 'validated' THEN now() END)
		ON CONFLICT ON CONSTRAINT slide_video_mappings_natural_key DO NOTHING
		RETURNING *`, map[string]any{"id": id, "node": m.NodeID, "pres": m.PresentationID, "video": m.VideoID,
		"slide": m.SlideNumber, "start": m.Start, "startSec": m.StartSec, "end": m.End, "endSec": m.EndSec,
		"state": m.State, "blockers": blockers}).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("insert mapping: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return toMapping(&rows[0]), nil
}
