package jobs

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/course-supporter/course-supporter/app/course"
)

// recordingStore records the transitions the worker asks for.
type recordingStore struct{ calls []string }

func (r *recordingStore) StartIngest(context.Context, uuid.UUID) (course.JobStart, *course.IngestTask, error) {
	return course.StartStale, nil, nil
}
func (r *recordingStore) CompleteIngest(context.Context, uuid.UUID, *course.IngestResult, course.QueueDone) error {
	return nil
}
func (r *recordingStore) RequeueJob(_ context.Context, _ uuid.UUID, msg string, _ time.Time) error {
	r.calls = append(r.calls, "requeue: "+msg)
	return nil
}
func (r *recordingStore) InterruptJob(context.Context, uuid.UUID, time.Time) error {
	r.calls = append(r.calls, "interrupt")
	return nil
}
func (r *recordingStore) FailJob(_ context.Context, _ uuid.UUID, msg string) error {
	r.calls = append(r.calls, "fail: "+msg)
	return nil
}
func (r *recordingStore) DeferJob(context.Context, uuid.UUID, time.Time) error { return nil }

// Ensure an attempt cut short by the worker stopping is snoozed (River
// gives the attempt back) and requeued uncounted, even on the last
// attempt, while a remote cancellation or a timeout is not.
func TestShutdownDoesNotSpendAttempts(t *testing.T) {
	job := &river.Job[IngestArgs]{JobRow: &rivertype.JobRow{ID: 7, Attempt: 3, MaxAttempts: 3, Kind: KindIngest}}
	run := func(ctx context.Context) (*recordingStore, error) {
		st := &recordingStore{}
		w := &IngestWorker{Store: st, Limit: time.Second, Backoff: backoff{base: time.Second}}
		return st, w.failed(ctx, slog.New(slog.DiscardHandler), job, context.Cause(ctx))
	}

	stopping, stop := context.WithCancel(context.Background())
	stop()
	st, err := run(stopping)
	var snooze *rivertype.JobSnoozeError
	if !errors.As(err, &snooze) || len(st.calls) != 1 || st.calls[0] != "interrupt" {
		t.Fatalf("shutdown: %v %v", err, st.calls)
	}

	remote, cancel := context.WithCancelCause(context.Background())
	cancel(rivertype.ErrJobCancelledRemotely)
	if st, err := run(remote); errors.As(err, &snooze) || len(st.calls) != 1 || st.calls[0] == "interrupt" {
		t.Fatalf("remote cancel: %v %v", err, st.calls)
	}

	late, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	if st, err := run(late); err == nil || errors.As(err, &snooze) ||
		len(st.calls) != 1 || st.calls[0] != "fail: Job timed out after 1s (after 3 attempts)" {
		t.Fatalf("timeout on the last attempt: %v %v", err, st.calls)
	}
}
