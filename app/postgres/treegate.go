package postgres

import (
	"context"
	"fmt"
	"sync"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// treeGate gives the writers of one tenant's tree their turn in this
// process before they borrow a pool connection (docs/design/data-model.md,
// "Tree lock"). Without it, every writer queued behind the tree lock held
// a connection while it waited in pg_advisory_xact_lock: one tenant's
// burst of node creates and moves took most of the pool, and every other
// request of the process, any tenant's read included, queued for a
// connection behind it (bench/load saw 7–9 of 10 connections waiting).
// The advisory lock stays: it orders writers of different processes.
type treeGate struct {
	mu    sync.Mutex
	turns map[uuid.UUID]*treeTurn
}

// treeTurn is one tenant's turn: a token in ch while a writer holds it.
// Blocked senders on a channel are served in order, so writers take
// their turns first come, first served.
type treeTurn struct {
	ch   chan struct{}
	refs int // writers holding or waiting for the turn
}

// enter waits for tenant's turn, or for ctx; leave ends the turn. An
// entry lives only while someone holds or waits for it, so the map
// stays as small as the number of trees being written.
func (g *treeGate) enter(ctx context.Context, tenant uuid.UUID) (leave func(), err error) {
	g.mu.Lock()
	if g.turns == nil {
		g.turns = map[uuid.UUID]*treeTurn{}
	}
	t := g.turns[tenant]
	if t == nil {
		t = &treeTurn{ch: make(chan struct{}, 1)}
		g.turns[tenant] = t
	}
	t.refs++
	g.mu.Unlock()
	select {
	case t.ch <- struct{}{}:
		return func() { <-t.ch; g.drop(tenant, t) }, nil
	case <-ctx.Done():
		g.drop(tenant, t)
		return nil, ctx.Err()
	}
}

func (g *treeGate) drop(tenant uuid.UUID, t *treeTurn) {
	g.mu.Lock()
	if t.refs--; t.refs == 0 {
		delete(g.turns, tenant)
	}
	g.mu.Unlock()
}

// inTreeTx runs fn in a transaction that holds tenantID's tree lock
// (lockTree), after the writer's turn in this process.
func inTreeTx(ctx context.Context, db *DB, tenantID uuid.UUID, fn func(tx *gorm.DB) error) error {
	leave, err := db.trees.enter(ctx, tenantID)
	if err != nil {
		return fmt.Errorf("wait for the tree lock: %w", err)
	}
	defer leave()
	return inTx(ctx, db, func(tx *gorm.DB) error {
		if err := lockTree(tx, tenantID); err != nil {
			return err
		}
		return fn(tx)
	})
}
