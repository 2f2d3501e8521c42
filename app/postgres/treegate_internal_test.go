package postgres

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
)

// size is how many trees have a writer holding or waiting for a turn.
func (g *treeGate) size() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.turns)
}

// Ensure one writer per tree holds the turn at a time, another tree is
// not held up, and the map empties once every writer left.
func TestTreeGateOneTurnPerTree(t *testing.T) {
	var g treeGate
	a, b := uuid.New(), uuid.New()
	ctx := context.Background()
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			leave, err := g.enter(ctx, a)
			if err != nil {
				t.Error(err)
				return
			}
			n := inside.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(time.Millisecond)
			inside.Add(-1)
			leave()
		}()
	}
	leaveA, err := g.enter(ctx, a) // queues behind (or among) the 20
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		leaveB, err := g.enter(ctx, b)
		if err != nil {
			t.Error(err)
			return
		}
		leaveB()
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("tree b waited for tree a's turn")
	}
	leaveA()
	wg.Wait()
	if m := most.Load(); m != 1 {
		t.Fatalf("%d writers of one tree held the turn at once, want 1", m)
	}
	if n := g.size(); n != 0 {
		t.Fatalf("%d turns left after every writer left", n)
	}
}

// Ensure a writer whose context ends while it waits gives up without
// taking the turn, and leaves nothing behind.
func TestTreeGateWaitEndsWithTheContext(t *testing.T) {
	var g treeGate
	tree := uuid.New()
	leave, err := g.enter(context.Background(), tree)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := g.enter(ctx, tree); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("enter while the turn is held = %v, want the context's deadline", err)
	}
	leave()
	if n := g.size(); n != 0 {
		t.Fatalf("%d turns left after the holder left and the waiter gave up", n)
	}
	again, err := g.enter(context.Background(), tree)
	if err != nil {
		t.Fatalf("the turn is not free again: %v", err)
	}
	again()
}
