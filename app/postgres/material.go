package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/course-supporter/course-supporter/app/course"
)

// sqlTx returns the database/sql transaction under a GORM transaction.
func sqlTx(tx *gorm.DB) (*sql.Tx, error) {
	t, ok := tx.Statement.ConnPool.(*sql.Tx)
	if !ok {
		return nil, errors.New("not inside a database/sql transaction")
	}
	return t, nil
}

// txOf wraps the transaction for the queue, which writes its records
// through it (course.Tx): the one place a transaction leaves this package.
func txOf(tx *gorm.DB) (course.Tx, error) {
	t, err := sqlTx(tx)
	if err != nil {
		return course.Tx{}, err
	}
	return course.NewTx(t), nil
}

// scheduleCleanup enqueues the deletion of keys in the transaction.
func scheduleCleanup(ctx context.Context, tx *gorm.DB, jobs course.JobQueue, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	t, err := txOf(tx)
	if err != nil {
		return err
	}
	return jobs.ScheduleCleanup(ctx, t, keys)
}

// materialRow is the material_entries row.
type materialRow struct {
	ID               uuid.UUID  `gorm:"column:id;primaryKey"`
	TenantID         uuid.UUID  `gorm:"column:tenant_id"`
	NodeID           uuid.UUID  `gorm:"column:materialnode_id"`
	SourceType       string     `gorm:"column:source_type"`
	Order            int        `gorm:"column:order"`
	SourceURL        string     `gorm:"column:source_url"`
	StorageKey       *string    `gorm:"column:storage_key"`
	Filename         *string    `gorm:"column:filename"`
	ContentType      *string    `gorm:"column:content_type"`
	RawHash          *string    `gorm:"column:raw_hash"`
	RawSize          *int64     `gorm:"column:raw_size_bytes"`
	RawETag          *string    `gorm:"column:raw_etag"`
	ProcessedRawHash *string    `gorm:"column:processed_raw_hash"`
	ProcessedHash    *string    `gorm:"column:processed_hash"`
	ProcessedContent *string    `gorm:"column:processed_content"`
	ProcessedAt      *time.Time `gorm:"column:processed_at"`
	JobID            *uuid.UUID `gorm:"column:job_id"`
	PendingSince     *time.Time `gorm:"column:pending_since"`
	ErrorMessage     *string    `gorm:"column:error_message"`
	CreatedAt        time.Time  `gorm:"column:created_at"`
	UpdatedAt        time.Time  `gorm:"column:updated_at"`
}

func (materialRow) TableName() string { return "material_entries" }

func toMaterial(r *materialRow) *course.Material {
	return &course.Material{
		ID: r.ID, TenantID: r.TenantID, NodeID: r.NodeID, SourceType: course.SourceType(r.SourceType), Order: r.Order,
		SourceURL: r.SourceURL, StorageKey: r.StorageKey, Filename: r.Filename, ContentType: r.ContentType,
		RawHash: r.RawHash, RawSize: r.RawSize, RawETag: r.RawETag, ProcessedRawHash: r.ProcessedRawHash,
		ProcessedHash: r.ProcessedHash, ProcessedContent: r.ProcessedContent, ProcessedAt: r.ProcessedAt,
		JobID: r.JobID, PendingSince: r.PendingSince, ErrorMessage: r.ErrorMessage,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

// MaterialStore implements course.MaterialService.
type MaterialStore struct {
	db   *DB
	jobs course.JobQueue
}

var _ course.MaterialService = (*MaterialStore)(nil)

// NewMaterialStore returns a MaterialStore; jobs enqueues object cleanups.
func NewMaterialStore(db *DB, jobs course.JobQueue) *MaterialStore {
	return &MaterialStore{db: db, jobs: jobs}
}

func errMaterialNotFound() error { return course.Errorf(course.ENOTFOUND, "Material not found") }

func (s *MaterialStore) tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return inTx(ctx, s.db, fn)
}

func loadMaterial(tx *gorm.DB, tenantID, id uuid.UUID) (*materialRow, error) {
	return takeOwned[materialRow](tx, tenantID, id, errMaterialNotFound)
}

// CreateMaterial inserts a material as the last of its node, in one
// transaction with the fingerprint invalidation of the node chain.
func (s *MaterialStore) CreateMaterial(ctx context.Context, tenantID uuid.UUID, in course.NewMaterial) (*course.Material, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("new material id: %w", err)
	}
	row := &materialRow{
		ID: id, TenantID: tenantID, NodeID: in.NodeID, SourceType: string(in.SourceType), SourceURL: in.SourceURL,
		StorageKey: in.StorageKey, Filename: in.Filename, ContentType: in.ContentType,
		RawHash: in.RawHash, RawSize: in.RawSize, RawETag: in.RawETag,
	}
	var created *course.Material
	// The tree lock orders this insert against a concurrent delete of the
	// node's subtree, whose cleanup job must see this object's key.
	err = inTreeTx(ctx, s.db, tenantID, func(tx *gorm.DB) error {
		if _, err := load(tx, tenantID, in.NodeID); err != nil {
			return err
		}
		if err := tx.Model(&materialRow{}).Where("materialnode_id = ?", in.NodeID).
			Select(`COALESCE(MAX("order") + 1, 0)`).Scan(&row.Order).Error; err != nil {
			return fmt.Errorf("next material order: %w", err)
		}
		if err := tx.Omit("created_at", "updated_at").Create(row).Error; err != nil {
			if errors.Is(err, gorm.ErrDuplicatedKey) {
				return course.Errorf(course.ECONFLICT, "Upload already confirmed.")
			}
			return fmt.Errorf("insert material: %w", err)
		}
		// The ingest job commits with the row, or neither does.
		if err := insertIngestJob(ctx, tx, s.jobs, row); err != nil {
			return err
		}
		if err := invalidateChain(tx, tenantID, in.NodeID); err != nil {
			return err
		}
		// Read back inside the transaction: after commit, a failed read
		// would make the caller discard an object a row points at.
		r, err := loadMaterial(tx, tenantID, id)
		if err != nil {
			return err
		}
		created = toMaterial(r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return created, nil
}

// GetMaterial returns one material of the tenant.
func (s *MaterialStore) GetMaterial(ctx context.Context, tenantID, id uuid.UUID) (*course.Material, error) {
	r, err := loadMaterial(s.db.Gorm.WithContext(ctx), tenantID, id)
	if err != nil {
		return nil, err
	}
	return toMaterial(r), nil
}

// ListMaterials lists a node's materials; ENOTFOUND for a foreign node.
func (s *MaterialStore) ListMaterials(ctx context.Context, tenantID, nodeID uuid.UUID) ([]*course.Material, error) {
	if _, err := load(s.db.Gorm.WithContext(ctx), tenantID, nodeID); err != nil {
		return nil, err
	}
	m, err := s.MaterialsOf(ctx, tenantID, []uuid.UUID{nodeID})
	if err != nil {
		return nil, err
	}
	return m[nodeID], nil
}

// MaterialsOf loads the materials of several nodes in one query.
func (s *MaterialStore) MaterialsOf(ctx context.Context, tenantID uuid.UUID, nodeIDs []uuid.UUID) (map[uuid.UUID][]*course.Material, error) {
	var rows []materialRow
	if err := s.db.Gorm.WithContext(ctx).Where("tenant_id = ? AND materialnode_id IN ?", tenantID, nodeIDs).
		Order(`"order", created_at`).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list materials: %w", err)
	}
	out := make(map[uuid.UUID][]*course.Material, len(nodeIDs))
	for i := range rows {
		out[rows[i].NodeID] = append(out[rows[i].NodeID], toMaterial(&rows[i]))
	}
	return out, nil
}

// StorageKeyUsed reports whether any material points at key.
func (s *MaterialStore) StorageKeyUsed(ctx context.Context, key string) (bool, error) {
	var n int64
	if err := s.db.Gorm.WithContext(ctx).Model(&materialRow{}).Where("storage_key = ?", key).Count(&n).Error; err != nil {
		return false, fmt.Errorf("look up storage key: %w", err)
	}
	return n > 0, nil
}
