package postgres

import (
	"fmt"
	"strconv"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/course-supporter/course-supporter/app/course"
)

// Slide–video mappings feed generation in three places: the "s:" lines of
// the fingerprint, the timecode_refs of presentation chunks and the
// mapping_warnings of a plan (slide_video_mappings, docs/design/mappings.md).
// This file is the one place generation reads that table.

// validatedMappingLines returns, per node, the fingerprint lines
// "s:<presentation_id>:<video_id>:<slide>:<start_sec>:<end_sec-or-empty>"
// of its validated mappings, ordered by (slide, start_sec, id).
func validatedMappingLines(tx *gorm.DB, nodeIDs []uuid.UUID) (map[uuid.UUID][]string, error) {
	rows, err := validatedMappings(tx, nodeIDs)
	if err != nil {
		return nil, err
	}
	out := map[uuid.UUID][]string{}
	for _, r := range rows {
		end := ""
		if r.EndSec != nil {
			end = strconv.Itoa(*r.EndSec)
		}
		out[r.NodeID] = append(out[r.NodeID], fmt.Sprintf("s:%s:%s:%d:%d:%s",
			r.PresentationID, r.VideoID, r.Slide, r.StartSec, end))
	}
	return out, nil
}

type genMappingRow struct {
	ID             uuid.UUID `gorm:"column:id"`
	NodeID         uuid.UUID `gorm:"column:materialnode_id"`
	PresentationID uuid.UUID `gorm:"column:presentation_materialentry_id"`
	VideoID        uuid.UUID `gorm:"column:video_materialentry_id"`
	Slide          int       `gorm:"column:slide_number"`
	StartSec       int       `gorm:"column:video_timecode_start_sec"`
	EndSec         *int      `gorm:"column:video_timecode_end_sec"`
	State          string    `gorm:"column:validation_state"`
}

func validatedMappings(tx *gorm.DB, nodeIDs []uuid.UUID) ([]genMappingRow, error) {
	if len(nodeIDs) == 0 {
		return nil, nil
	}
	var rows []genMappingRow
	if err := tx.Raw(`SELECT id, materialnode_id, presentation_materialentry_id, video_materialentry_id, slide_number,
			video_timecode_start_sec, video_timecode_end_sec, validation_state::text AS validation_state
		FROM slide_video_mappings WHERE materialnode_id IN ? AND validation_state::text = 'validated'
		ORDER BY slide_number, video_timecode_start_sec, id`, nodeIDs).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("load validated mappings: %w", err)
	}
	return rows, nil
}

// timecodeRefs returns the video references of each (presentation,
// slide) from the validated mappings of the nodes.
func timecodeRefs(tx *gorm.DB, nodeIDs []uuid.UUID) (map[uuid.UUID]map[int][]course.ContextTimecodeRef, error) {
	rows, err := validatedMappings(tx, nodeIDs)
	if err != nil {
		return nil, err
	}
	out := map[uuid.UUID]map[int][]course.ContextTimecodeRef{}
	for _, r := range rows {
		if out[r.PresentationID] == nil {
			out[r.PresentationID] = map[int][]course.ContextTimecodeRef{}
		}
		out[r.PresentationID][r.Slide] = append(out[r.PresentationID][r.Slide],
			course.ContextTimecodeRef{VideoMaterialID: r.VideoID.String(), Start: r.StartSec, End: r.EndSec})
	}
	return out, nil
}

// mappingWarnings lists the mappings of the nodes that will not
// contribute: pending_validation or validation_failed.
func mappingWarnings(tx *gorm.DB, nodeIDs []uuid.UUID) ([]course.MappingWarning, error) {
	out := []course.MappingWarning{}
	if len(nodeIDs) == 0 {
		return out, nil
	}
	var rows []genMappingRow
	if err := tx.Raw(`SELECT id, materialnode_id, slide_number, validation_state::text AS validation_state
		FROM slide_video_mappings
		WHERE materialnode_id IN ? AND validation_state::text IN ('pending_validation', 'validation_failed')
		ORDER BY materialnode_id, slide_number, id`, nodeIDs).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("load mapping warnings: %w", err)
	}
	for _, r := range rows {
		out = append(out, course.MappingWarning{MappingID: r.ID, NodeID: r.NodeID, SlideNumber: r.Slide, State: r.State})
	}
	return out, nil
}
