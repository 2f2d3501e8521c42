package postgres

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/course-supporter/course-supporter/app/course"
)

// lockKey takes a transaction advisory lock on an id.
func lockKey(tx *gorm.DB, key string) error {
	if err := tx.Exec(`SELECT pg_advisory_xact_lock(hashtextextended(?, 0))`, key).Error; err != nil {
		return fmt.Errorf("advisory lock: %w", err)
	}
	return nil
}

// deleteMaterialRow deletes one material, compacts its node's material
// order, invalidates the node chain and schedules its object's deletion.
func (s *MaterialStore) deleteMaterialRow(ctx context.Context, tx *gorm.DB, r *materialRow) error {
	if err := lockKey(tx, r.NodeID.String()); err != nil {
		return err
	}
	if err := cancelMaterialJobs(ctx, tx, s.jobs, r.ID, "Material deleted"); err != nil {
		return err
	}
	if err := tx.Where("id = ? AND tenant_id = ?", r.ID, r.TenantID).Delete(&materialRow{}).Error; err != nil {
		return fmt.Errorf("delete material: %w", err)
	}
	if err := tx.Exec(`UPDATE material_entries m SET "order" = s.rn
		FROM (SELECT id, row_number() OVER (ORDER BY "order", created_at) - 1 AS rn
		      FROM material_entries WHERE materialnode_id = ?) s
		WHERE m.id = s.id AND m."order" <> s.rn`, r.NodeID).Error; err != nil {
		return fmt.Errorf("compact materials: %w", err)
	}
	if err := invalidateChain(tx, r.TenantID, r.NodeID); err != nil {
		return err
	}
	if r.StorageKey != nil {
		return scheduleCleanup(ctx, tx, s.jobs, []string{*r.StorageKey})
	}
	return nil
}

// DeleteMaterial removes a material; its object goes through cleanup.
func (s *MaterialStore) DeleteMaterial(ctx context.Context, tenantID, id uuid.UUID) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		r, err := loadMaterial(tx, tenantID, id)
		if err != nil {
			return err
		}
		return s.deleteMaterialRow(ctx, tx, r)
	})
}

// DeleteStoredFile removes the caller's material for key, if any, and
// schedules the object's deletion; idempotent.
func (s *MaterialStore) DeleteStoredFile(ctx context.Context, tenantID uuid.UUID, key string) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		var rows []materialRow
		if err := tx.Where("tenant_id = ? AND storage_key = ?", tenantID, key).Find(&rows).Error; err != nil {
			return fmt.Errorf("find material by key: %w", err)
		}
		for i := range rows {
			if err := s.deleteMaterialRow(ctx, tx, &rows[i]); err != nil {
				return err
			}
		}
		if len(rows) == 0 {
			return scheduleCleanup(ctx, tx, s.jobs, []string{key})
		}
		return nil
	})
}

// ScheduleObjectDeletion records keys for the cleanup job.
func (s *MaterialStore) ScheduleObjectDeletion(ctx context.Context, keys []string) error {
	return s.tx(ctx, func(tx *gorm.DB) error { return scheduleCleanup(ctx, tx, s.jobs, keys) })
}

// RetryMaterial restarts a failed or integrity-broken material.
// The row is read back inside the transaction: after the commit the
// worker may already have finished the new job, and the client must see
// the state its retry created (pending).
func (s *MaterialStore) RetryMaterial(ctx context.Context, tenantID, id uuid.UUID) (*course.Material, error) {
	var out *course.Material
	err := s.tx(ctx, func(tx *gorm.DB) error {
		r, err := loadMaterial(tx.Clauses(forUpdate()), tenantID, id)
		if err != nil {
			return err
		}
		state := toMaterial(r).State()
		if state != course.StateError && state != course.StateIntegrityBroken {
			return course.Errorf(course.ECONFLICT,
				"Cannot retry: material is in '%s' state, expected 'error' or 'integrity_broken'.", state)
		}
		changes := map[string]any{"error_message": nil}
		if state == course.StateIntegrityBroken {
			changes["raw_hash"] = nil // the current object becomes the new reference
		}
		if err := tx.Model(&materialRow{}).Where("id = ?", id).Updates(changes).Error; err != nil {
			return fmt.Errorf("retry material: %w", err)
		}
		// A job still unfinished (a stale one) must not race the new one.
		if err := cancelMaterialJobs(ctx, tx, s.jobs, r.ID, "Superseded by a retry"); err != nil {
			return err
		}
		if err := insertIngestJob(ctx, tx, s.jobs, r); err != nil {
			return err
		}
		if err := invalidateChain(tx, tenantID, r.NodeID); err != nil {
			return err
		}
		back, err := loadMaterial(tx, tenantID, id)
		if err != nil {
			return err
		}
		out = toMaterial(back)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// subtreeStorageKeys lists the storage keys of every material under id.
func subtreeStorageKeys(tx *gorm.DB, tenantID, id uuid.UUID) ([]string, error) {
	var keys []string
	err := tx.Raw(`WITH RECURSIVE sub AS (
			SELECT id FROM material_nodes WHERE id = ? AND tenant_id = ?
			UNION
			SELECT m.id FROM material_nodes m JOIN sub ON m.parent_materialnode_id = sub.id
		)
		SELECT storage_key FROM material_entries
		WHERE tenant_id = ? AND storage_key IS NOT NULL AND materialnode_id IN (SELECT id FROM sub)`,
		id, tenantID, tenantID).Scan(&keys).Error
	if err != nil {
		return nil, fmt.Errorf("collect storage keys: %w", err)
	}
	return keys, nil
}
