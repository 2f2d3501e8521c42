package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5"
)

// verification is what the checks after the load found.
type verification struct {
	nodes, mats, objects               int
	lostNodes, wrongParent, lostMats   int
	lostObjects, orphans, danglingRows int
	unfinished, failedJobs, pending    int
	drained                            time.Duration
	failures                           []string
}

func (v *verification) fail(format string, a ...any) {
	if len(v.failures) < 40 {
		v.failures = append(v.failures, fmt.Sprintf(format, a...))
	}
}

func (v *verification) ok() bool { return len(v.failures) == 0 }

// unfinishedSQL counts work still to do: business jobs not final, and
// River jobs not final (the reaper's periodic job aside).
const unfinishedSQL = `SELECT
	(SELECT count(*) FROM jobs WHERE status IN ('queued', 'active')) +
	(SELECT count(*) FROM river_job WHERE state NOT IN ('completed', 'cancelled', 'discarded') AND kind <> 'job_reaper')`

// verify waits for the queue to drain (bounded by -settle) and for two
// reaper periods, then compares what the clients were told with the
// database and the bucket.
func (l *load) verify(ctx context.Context, outages []outage) (*verification, error) {
	v := &verification{}
	db, err := connect(ctx, l.c.dsn)
	if err != nil {
		return nil, err
	}
	defer db.Close(context.WithoutCancel(ctx))
	t0 := time.Now()
	var left int
	for time.Since(t0) < l.c.settle {
		if err := db.QueryRow(ctx, unfinishedSQL).Scan(&left); err != nil {
			return nil, fmt.Errorf("count unfinished jobs: %w", err)
		}
		if left == 0 {
			break
		}
		time.Sleep(time.Second)
	}
	v.drained = time.Since(t0)
	if l.c.reaper > 0 {
		time.Sleep(2 * l.c.reaper) // what the reaper repairs, it has repaired by now
	}
	if err := v.checkRows(ctx, l, db); err != nil {
		return nil, err
	}
	return v, nil
}

// connect retries for a while: after the drill the server may still be
// starting.
func connect(ctx context.Context, dsn string) (*pgx.Conn, error) {
	var err error
	for range 30 {
		var c *pgx.Conn
		if c, err = pgx.Connect(ctx, dsn); err == nil {
			return c, nil
		}
		time.Sleep(time.Second)
	}
	return nil, fmt.Errorf("connect: %w", err)
}

type rowNode struct{ tenant, parent string }
type rowMat struct {
	tenant, node, key string
	size              int64
}

func (v *verification) checkRows(ctx context.Context, l *load, db *pgx.Conn) error {
	nodes := map[string]rowNode{}
	rows, err := db.Query(ctx, `SELECT n.id::text, t.name, coalesce(n.parent_materialnode_id::text, '')
		FROM material_nodes n JOIN tenants t ON t.id = n.tenant_id`)
	if err != nil {
		return fmt.Errorf("read nodes: %w", err)
	}
	for rows.Next() {
		var id string
		var n rowNode
		if err := rows.Scan(&id, &n.tenant, &n.parent); err != nil {
			return fmt.Errorf("scan node: %w", err)
		}
		nodes[id] = n
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read nodes: %w", err)
	}
	mats := map[string]rowMat{}
	keys := map[string]string{}
	rows, err = db.Query(ctx, `SELECT m.id::text, t.name, m.materialnode_id::text, coalesce(m.storage_key, ''), coalesce(m.raw_size_bytes, -1)
		FROM material_entries m JOIN tenants t ON t.id = m.tenant_id`)
	if err != nil {
		return fmt.Errorf("read materials: %w", err)
	}
	for rows.Next() {
		var id string
		var m rowMat
		if err := rows.Scan(&id, &m.tenant, &m.node, &m.key, &m.size); err != nil {
			return fmt.Errorf("scan material: %w", err)
		}
		mats[id] = m
		if m.key != "" {
			keys[m.key] = id
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read materials: %w", err)
	}
	objects, err := l.listBucket(ctx)
	if err != nil {
		return err
	}
	v.nodes, v.mats, v.objects = len(nodes), len(mats), len(objects)

	for _, cl := range l.clients {
		for _, n := range cl.nodes {
			got, ok := nodes[n.id]
			switch {
			case !ok || got.tenant != n.tenant:
				v.lostNodes++
				v.fail("node %s (201 to %s) is not in the database", n.id, n.tenant)
			case got.parent != n.parent && !slices.Contains(n.maybe, got.parent):
				v.wrongParent++
				v.fail("node %s: parent %s, but the last acknowledged move said %s", n.id, got.parent, n.parent)
			}
		}
		for _, m := range cl.mats {
			got, ok := mats[m.id]
			switch {
			case !ok || got.tenant != m.tenant || got.node != m.node:
				v.lostMats++
				v.fail("material %s (201 to %s) is not in the database", m.id, m.tenant)
			case got.key == "" || got.size != int64(m.size):
				v.lostMats++
				v.fail("material %s: key %q size %d, uploaded %d bytes", m.id, got.key, got.size, m.size)
			case objects[got.key] != int64(m.size):
				v.lostObjects++
				v.fail("material %s: object %s is not in the bucket (or has another size)", m.id, got.key)
			}
		}
	}
	for k := range objects {
		if _, ok := keys[k]; !ok {
			v.orphans++
			v.fail("object %s has no material (orphan)", k)
		}
	}
	for k, id := range keys {
		if _, ok := objects[k]; !ok {
			v.danglingRows++
			v.fail("material %s points at %s, which is not in the bucket", id, k)
		}
	}
	var dangling int
	if err := db.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM material_nodes n WHERE n.parent_materialnode_id IS NOT NULL
			AND NOT EXISTS (SELECT 1 FROM material_nodes p WHERE p.id = n.parent_materialnode_id)) +
		(SELECT count(*) FROM material_entries m WHERE m.job_id IS NOT NULL
			AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = m.job_id)) +
		(SELECT count(*) FROM jobs j WHERE j.job_type = 'ingest' AND j.materialentry_id IS NULL AND j.status IN ('queued', 'active'))`).Scan(&dangling); err != nil {
		return fmt.Errorf("count dangling rows: %w", err)
	}
	if dangling > 0 {
		v.danglingRows += dangling
		v.fail("%d rows point at rows that do not exist", dangling)
	}
	if err := db.QueryRow(ctx, unfinishedSQL).Scan(&v.unfinished); err != nil {
		return fmt.Errorf("count unfinished jobs: %w", err)
	}
	if err := db.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM jobs WHERE status = 'failed'),
		(SELECT count(*) FROM material_entries WHERE job_id IS NOT NULL)`).Scan(&v.failedJobs, &v.pending); err != nil {
		return fmt.Errorf("count jobs: %w", err)
	}
	if v.unfinished > 0 || v.pending > 0 {
		v.fail("%d jobs unfinished, %d materials still pending, %s after the load (two reaper periods included)",
			v.unfinished, v.pending, v.drained+2*l.c.reaper)
	}
	if v.failedJobs > 0 && !l.c.faults {
		v.fail("%d jobs failed without any fault", v.failedJobs)
	}
	return nil
}

func (l *load) listBucket(ctx context.Context) (map[string]int64, error) {
	c := s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(l.c.s3Endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(l.c.s3Key, l.c.s3Sec, ""),
	})
	out := map[string]int64{}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(l.c.s3Bucket)})
	for page := 0; p.HasMorePages() && page < 10_000; page++ {
		res, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list bucket: %w", err)
		}
		for _, o := range res.Contents {
			out[aws.ToString(o.Key)] = aws.ToInt64(o.Size)
		}
	}
	return out, nil
}

func (v *verification) print() {
	fmt.Printf("after the load: queue drained in %.1f s; %d nodes, %d materials, %d objects in the bucket\n",
		v.drained.Seconds(), v.nodes, v.mats, v.objects)
	fmt.Printf("lost: %d nodes, %d materials, %d objects; %d nodes with a wrong parent; %d orphan objects; %d dangling rows; %d jobs unfinished, %d failed, %d materials pending\n",
		v.lostNodes, v.lostMats, v.lostObjects, v.wrongParent, v.orphans, v.danglingRows, v.unfinished, v.failedJobs, v.pending)
	fmt.Printf("RESULT load.lost_writes %d count ==0\nRESULT load.orphans %d count ==0\n",
		v.lostNodes+v.lostMats+v.lostObjects+v.wrongParent, v.orphans+v.danglingRows)
	for _, f := range v.failures {
		fmt.Println("FAIL:", f)
	}
}
