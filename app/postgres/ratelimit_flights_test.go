package postgres

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Ensure Close's wait gives up at its deadline while a limiter call is
// stuck (a slow or unreachable database at shutdown), and that a flight
// may start while another goroutine waits — sync.WaitGroup forbids both.
func TestFlightsWaitHonoursDeadlineAndLateAdds(t *testing.T) {
	var f flights
	if err := f.Wait(context.Background()); err != nil {
		t.Fatalf("idle wait: %v", err)
	}
	f.Add(1)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := f.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait with a flight stuck: %v, want the deadline", err)
	}
	done := make(chan error, 1)
	go func() { done <- f.Wait(context.Background()) }()
	f.Add(1) // a request leads a call during shutdown
	f.Done()
	select {
	case err := <-done:
		t.Fatalf("wait returned (%v) with a flight left", err)
	case <-time.After(20 * time.Millisecond):
	}
	f.Done()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("wait did not return once every flight ended")
	}
}
