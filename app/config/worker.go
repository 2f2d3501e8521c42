package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Worker holds the background job settings.
type Worker struct {
	InProcess       bool
	RetryBaseDelay  time.Duration
	ShutdownTimeout time.Duration
	IngestMaxJobs   int
	// IngestTenantSlots is how many ingest jobs of one tenant may be in
	// the queue at once (0: no limit); the rest wait their turn.
	IngestTenantSlots int
	JobTimeout        time.Duration // ingest attempt limit
	MaxJobs           int           // generation queue concurrency (WORKER_MAX_JOBS)
	StepTimeout       time.Duration // generation step attempt limit
	MaxTries          int
	// RescueGrace is added to the longest job timeout before a job still
	// marked running is taken for a dead worker's and retried.
	RescueGrace time.Duration
	TmpDir      string
	HeavyWindow HeavyWindow
	// ReaperInterval is the job reaper's period; MaxWait how long a job may
	// wait for its dependencies.
	ReaperInterval time.Duration
	MaxWait        time.Duration
	// HeartbeatInterval is how often a worker process writes its
	// heartbeat; /health wants one newer than StaleAfter.
	HeartbeatInterval time.Duration
	StaleAfter        time.Duration
	// MaintenanceMax is the concurrency of the maintenance queue (reaper,
	// storage cleanup): fixed at 1, the work is light and needs no tuning.
	MaintenanceMax int
	// Maintenance schedules the orphan sweep and housekeeping.
	Maintenance Maintenance
}

// HeavyWindow is the optional window for normal-priority ingest jobs.
type HeavyWindow struct {
	Enabled    bool
	Start, End time.Duration // offsets from local midnight
	Location   *time.Location
}

// Ingest holds the settings of material processing.
type Ingest struct {
	FetchTimeout      time.Duration
	FetchMaxBytes     int64
	FetchMaxRedirects int
	FetchAllowedPorts []int
	FetchAllowPrivate bool
	ChunkTarget       int
	ChunkMax          int
	ChunkOverlap      int
	SegmentSeconds    int
	Language          string
	// VideoDownloader is VIDEO_DOWNLOADER_CMD split into words; it gets
	// the URL and the output path appended. Empty: platform URLs fail.
	VideoDownloader []string
}

func (l *loader) loadWorker() Worker {
	w := Worker{
		InProcess:       l.boolean("WORKER_IN_PROCESS", false),
		RetryBaseDelay:  l.duration("WORKER_RETRY_BASE_DELAY", 30*time.Second),
		ShutdownTimeout: l.duration("WORKER_SHUTDOWN_TIMEOUT", 60*time.Second),
		IngestMaxJobs:   int(l.integer("WORKER_INGEST_MAX_JOBS", 2, 1, 64)),
		JobTimeout:      l.duration("WORKER_JOB_TIMEOUT", 21600*time.Second),
		MaxJobs:         int(l.integer("WORKER_MAX_JOBS", 2, 1, 64)),
		StepTimeout:     l.duration("WORKER_STEP_TIMEOUT", 1800*time.Second),
		MaxTries:        int(l.integer("WORKER_MAX_TRIES", 3, 1, 25)),
		RescueGrace:     l.duration("WORKER_RESCUE_GRACE", 15*time.Minute),
		TmpDir:          l.str("WORKER_TMP_DIR", "/var/tmp/course-supporter"),
		ReaperInterval:  l.duration("JOB_REAPER_INTERVAL", 60*time.Second),
		MaxWait:         l.duration("JOB_MAX_WAIT", 72*time.Hour),

		IngestTenantSlots: int(l.integer("WORKER_INGEST_TENANT_SLOTS", 1, 0, 64)),
		HeartbeatInterval: l.duration("WORKER_HEARTBEAT_INTERVAL", 15*time.Second),
		StaleAfter:        l.duration("WORKER_STALE_AFTER", 120*time.Second),
		MaintenanceMax:    1,
	}
	if w.HeartbeatInterval < 100*time.Millisecond {
		l.fail("WORKER_HEARTBEAT_INTERVAL", "must be at least 100ms")
	}
	if w.StaleAfter <= w.HeartbeatInterval {
		l.fail("WORKER_STALE_AFTER", "must exceed WORKER_HEARTBEAT_INTERVAL")
	}
	if w.ReaperInterval < time.Second {
		l.fail("JOB_REAPER_INTERVAL", "must be at least 1s")
	}
	if w.JobTimeout <= 0 {
		l.fail("WORKER_JOB_TIMEOUT", "must be positive")
	}
	if w.StepTimeout <= 0 {
		l.fail("WORKER_STEP_TIMEOUT", "must be positive")
	}
	if w.RescueGrace <= 0 {
		l.fail("WORKER_RESCUE_GRACE", "must be positive")
	}
	w.HeavyWindow = HeavyWindow{Enabled: l.boolean("WORKER_HEAVY_WINDOW_ENABLED", false)}
	w.HeavyWindow.Start = l.clock("WORKER_HEAVY_WINDOW_START", 2*time.Hour)
	w.HeavyWindow.End = l.clock("WORKER_HEAVY_WINDOW_END", 6*time.Hour+30*time.Minute)
	tz := l.str("WORKER_HEAVY_WINDOW_TZ", "UTC")
	loc, err := time.LoadLocation(tz)
	if err != nil {
		l.fail("WORKER_HEAVY_WINDOW_TZ", "unknown time zone %q", tz)
		loc = time.UTC
	}
	w.HeavyWindow.Location = loc
	w.Maintenance = l.loadMaintenance(w.StaleAfter)
	if w.HeavyWindow.Enabled && w.HeavyWindow.Start == w.HeavyWindow.End {
		l.fail("WORKER_HEAVY_WINDOW_END", "must differ from WORKER_HEAVY_WINDOW_START")
	}
	return w
}

func (l *loader) loadIngest(environment string) Ingest {
	in := Ingest{
		FetchTimeout:      l.duration("FETCH_TIMEOUT", 30*time.Second),
		FetchMaxBytes:     l.integer("FETCH_MAX_BYTES", 10<<20, 1, 1<<30),
		FetchMaxRedirects: int(l.integer("FETCH_MAX_REDIRECTS", 5, 0, 20)),
		FetchAllowPrivate: l.boolean("FETCH_ALLOW_PRIVATE_NETWORKS", false),
		ChunkTarget:       int(l.integer("CHUNK_TARGET_TOKENS", 400, 50, 8000)),
		ChunkMax:          int(l.integer("CHUNK_MAX_TOKENS", 800, 50, 8000)),
		ChunkOverlap:      int(l.integer("CHUNK_OVERLAP_TOKENS", 40, 0, 1000)),
		SegmentSeconds:    int(l.integer("TRANSCRIPTION_SEGMENT_SECONDS", 600, 10, 1800)),
		Language:          l.str("TRANSCRIPTION_LANGUAGE", ""),
	}
	if cmd, ok := l.raw("VIDEO_DOWNLOADER_CMD"); ok {
		in.VideoDownloader = strings.Fields(cmd)
	}
	for _, p := range l.list("FETCH_ALLOWED_PORTS", []string{"80", "443"}) {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			l.fail("FETCH_ALLOWED_PORTS", "%q is not a port", p)
			continue
		}
		in.FetchAllowedPorts = append(in.FetchAllowedPorts, n)
	}
	if in.FetchAllowPrivate && environment == "production" {
		l.fail("FETCH_ALLOW_PRIVATE_NETWORKS", "must be false in production (it disables SSRF protection)")
	}
	if in.ChunkTarget > in.ChunkMax {
		l.fail("CHUNK_TARGET_TOKENS", "must not exceed CHUNK_MAX_TOKENS (%d)", in.ChunkMax)
	}
	if in.ChunkOverlap >= in.ChunkTarget {
		l.fail("CHUNK_OVERLAP_TOKENS", "must be below CHUNK_TARGET_TOKENS (%d)", in.ChunkTarget)
	}
	return in
}

// clock parses HH:MM into an offset from midnight.
func (l *loader) clock(name string, def time.Duration) time.Duration {
	v, ok := l.raw(name)
	if !ok {
		return def
	}
	h, m, found := strings.Cut(v, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !found || err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 || len(m) != 2 {
		l.fail(name, "must be HH:MM, got %q", v)
		return def
	}
	return time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute
}

// String renders the window for logs.
func (w HeavyWindow) String() string {
	if !w.Enabled {
		return "off"
	}
	f := func(d time.Duration) string { return fmt.Sprintf("%02d:%02d", int(d.Hours()), int(d.Minutes())%60) }
	return f(w.Start) + "-" + f(w.End) + " " + w.Location.String()
}
