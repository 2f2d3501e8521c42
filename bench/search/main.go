// Command search is bench/search: it loads a tenant of clustered 1536-d
// chunks with COPY (binary) and measures vector search over the whole
// tenant and over a subtree holding 5 % of the chunks: recall@10 against
// an exact scan of the same run, p50/p95/p99 of the SQL alone and of the
// endpoint, the speed-up over the exact scan, index build time and size.
// bench/search/run.sh runs it; see docs/performance.md.
package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/course-supporter/course-supporter/app/postgres"
)

const dims = 1536

type opts struct {
	chunks, nodes, clusters, queries, exactQueries int
	noise                                          float64
	seed                                           uint64
	efSearch                                       int
}

func main() {
	var o opts
	phase := flag.String("phase", "load", "load | measure | form (print the index form this build ships)")
	flag.IntVar(&o.chunks, "chunks", 100000, "chunks")
	flag.IntVar(&o.nodes, "nodes", 1000, "nodes (root + 19 chapters + lessons)")
	flag.IntVar(&o.clusters, "clusters", 200, "vector clusters")
	flag.IntVar(&o.queries, "queries", 200, "timed queries per case")
	flag.IntVar(&o.exactQueries, "exact", 50, "queries checked against an exact scan per case")
	flag.Float64Var(&o.noise, "noise", 0.6, "noise norm relative to the cluster centre (unit)")
	flag.Uint64Var(&o.seed, "seed", 16, "random seed")
	flag.IntVar(&o.efSearch, "ef", 100, "hnsw.ef_search (HNSW_EF_SEARCH)")
	tenant := flag.String("tenant", "", "tenant id (measure)")
	base := flag.String("base", "", "API base URL (measure)")
	key := flag.String("key", "", "API key (measure)")
	embedAddr := flag.String("embed-addr", "", "listen address of the fake embeddings server (measure)")
	index := flag.String("index", "vector", "vector | halfvec | both: the HNSW index(es) to build (load) and time (measure)")
	bases := flag.String("bases", "", "form=URL,...: the app serving each index form (measure; default: -base for the shipped form)")
	profileAddr := flag.String("profile-addr", "", "metrics listener of the app at -base: take a CPU profile during an endpoint phase (measure)")
	profileOut := flag.String("profile-out", "", "where to write that profile")
	flag.Parse()
	if *phase == "form" {
		fmt.Println(postgres.IndexForm())
		return
	}
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	switch *phase {
	case "load":
		err = load(ctx, pool, o, *index)
	case "measure":
		err = measure(ctx, pool, o, measureArgs{tenant: *tenant, base: *base, key: *key, embedAddr: *embedAddr,
			forms: forms(*index), bases: parseBases(*bases, *base), profileAddr: *profileAddr, profileOut: *profileOut})
	}
	if err != nil {
		log.Fatal(err)
	}
}

// world is the generated data: cluster centres, chunk → cluster, nodes.
type world struct {
	rng     *rand.Rand
	centres [][]float32
}

func newWorld(o opts) *world {
	w := &world{rng: rand.New(rand.NewPCG(o.seed, 1))} //nolint:gosec // reproducible bench vectors, not a secret
	for range o.clusters {
		w.centres = append(w.centres, unitVec(w.gauss(1)))
	}
	return w
}

func (w *world) gauss(sigma float64) []float32 {
	v := make([]float32, dims)
	for i := range v {
		v[i] = float32(w.rng.NormFloat64() * sigma)
	}
	return v
}

// near is a point of cluster c: its centre plus noise of norm ~noise.
func (w *world) near(c int, noise float64) []float32 {
	v := w.gauss(noise / math.Sqrt(dims))
	for i := range v {
		v[i] += w.centres[c][i]
	}
	return unitVec(v)
}

func unitVec(v []float32) []float32 {
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	n = math.Sqrt(n)
	for i := range v {
		v[i] = float32(float64(v[i]) / n)
	}
	return v
}

// lesson is a leaf node and its one material.
type lesson struct{ node, material uuid.UUID }

// load creates the tenant, the node tree (root, 19 chapters, lessons
// spread evenly), one ready material per lesson and the chunks, then
// builds the index and reports its build time and size.
func load(ctx context.Context, pool *pgxpool.Pool, o opts, index string) error {
	w := newWorld(o)
	var tenant uuid.UUID
	if err := pool.QueryRow(ctx, `SELECT id FROM tenants WHERE name = 'bench'`).Scan(&tenant); err != nil {
		return fmt.Errorf("tenant bench: %w", err)
	}
	const chapters = 20
	root := uuid.Must(uuid.NewV7())
	nodes := [][]any{{root, tenant, nil, "Benchmark course", 0}}
	var chapterIDs []uuid.UUID
	for c := range chapters {
		id := uuid.Must(uuid.NewV7())
		chapterIDs = append(chapterIDs, id)
		nodes = append(nodes, []any{id, tenant, root, fmt.Sprintf("Chapter %d", c), c})
	}
	lessons := o.nodes - 1 - chapters
	var ls []lesson
	for l := range lessons {
		id := uuid.Must(uuid.NewV7())
		nodes = append(nodes, []any{id, tenant, chapterIDs[l%chapters], fmt.Sprintf("Lesson %d", l), l / chapters})
		ls = append(ls, lesson{node: id, material: uuid.Must(uuid.NewV7())})
	}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"material_nodes"},
		[]string{"id", "tenant_id", "parent_materialnode_id", "title", "order"}, pgx.CopyFromRows(nodes)); err != nil {
		return fmt.Errorf("copy nodes: %w", err)
	}
	var mats [][]any
	for i, l := range ls {
		mats = append(mats, []any{l.material, tenant, l.node, "text", "bench", fmt.Sprintf("lesson-%d.md", i), "x", "h", time.Now()})
	}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"material_entries"},
		[]string{"id", "tenant_id", "materialnode_id", "source_type", "source_url", "filename", "processed_content", "processed_hash", "processed_at"},
		pgx.CopyFromRows(mats)); err != nil {
		return fmt.Errorf("copy materials: %w", err)
	}
	// Whatever vector index the migrations built: COPY into an unindexed
	// table, then build the form(s) asked for.
	for _, ix := range indexDDL {
		if _, err := pool.Exec(ctx, `DROP INDEX IF EXISTS `+ix.name); err != nil {
			return err
		}
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeChunks(pw, w, o, tenant, ls)) }()
	start := time.Now()
	if _, err := conn.Conn().PgConn().CopyFrom(ctx, pr, `COPY material_chunks (id, tenant_id, materialnode_id, materialentry_id,
		chunk_index, chunk_type, text, token_count, content_hash, embedding, embedding_model) FROM STDIN (FORMAT binary)`); err != nil {
		return fmt.Errorf("copy chunks: %w", err)
	}
	fmt.Printf("loaded %d chunks in %.1f s\n", o.chunks, time.Since(start).Seconds())
	if _, err := conn.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		return err
	}
	_, _ = conn.Exec(ctx, `SET maintenance_work_mem = '2GB'`)
	_, _ = conn.Exec(ctx, `SET max_parallel_maintenance_workers = 1`)
	for _, form := range forms(index) {
		if err := buildIndex(ctx, conn.Conn(), form); err != nil {
			return err
		}
	}
	return nil
}

// indexDDL is the HNSW index of each form: the migration's vector index,
// or an expression index over the same column cast to 16-bit halfvec.
var indexDDL = map[string]struct{ name, ddl string }{
	postgres.IndexVector: {"material_chunks_embedding_idx",
		`CREATE INDEX material_chunks_embedding_idx ON material_chunks USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)`},
	postgres.IndexHalfvec: {"material_chunks_embedding_half_idx",
		`CREATE INDEX material_chunks_embedding_half_idx ON material_chunks
			USING hnsw ((embedding::halfvec(1536)) halfvec_cosine_ops) WITH (m = 16, ef_construction = 64)`},
}

// forms lists the index forms of -index.
func forms(index string) []string {
	if index == "both" {
		return []string{postgres.IndexVector, postgres.IndexHalfvec}
	}
	return []string{index}
}

// buildIndex builds one form's index and reports its build time and size.
func buildIndex(ctx context.Context, conn *pgx.Conn, form string) error {
	ix, ok := indexDDL[form]
	if !ok {
		return fmt.Errorf("unknown index form %q", form)
	}
	if _, err := conn.Exec(ctx, `DROP INDEX IF EXISTS `+ix.name); err != nil {
		return err
	}
	start := time.Now()
	if _, err := conn.Exec(ctx, ix.ddl); err != nil {
		return fmt.Errorf("build index: %w", err)
	}
	build := time.Since(start).Seconds()
	var size, table int64
	if err := conn.QueryRow(ctx, `SELECT pg_relation_size($1::regclass), pg_total_relation_size('material_chunks')`, ix.name).Scan(&size, &table); err != nil {
		return err
	}
	fmt.Printf("index %s (%s): built in %.1f s, %.0f MiB; table with indexes %.0f MiB; load %s\n", ix.name, form, build,
		float64(size)/(1<<20), float64(table)/(1<<20), loadavg())
	fmt.Printf("RESULT search.%s.index_build %.1f s \n", form, build)
	fmt.Printf("RESULT search.%s.index_size %.0f MiB \n", form, float64(size)/(1<<20))
	return nil
}

// writeChunks streams the chunks in PostgreSQL's binary COPY format; the
// vector field is pgvector's binary form (int16 dim, int16 0, float4s).
func writeChunks(out io.Writer, w *world, o opts, tenant uuid.UUID, ls []lesson) error {
	bw := &bytes.Buffer{}
	bw.WriteString("PGCOPY\n\xff\r\n\x00")
	_ = binary.Write(bw, binary.BigEndian, int32(0))
	_ = binary.Write(bw, binary.BigEndian, int32(0))
	field := func(b []byte) {
		_ = binary.Write(bw, binary.BigEndian, int32(len(b))) //nolint:gosec // COPY field lengths are small
		bw.Write(b)
	}
	i32 := func(n int) []byte { b := make([]byte, 4); binary.BigEndian.PutUint32(b, uint32(n)); return b } //nolint:gosec // small
	vec := make([]byte, 4+4*dims)
	binary.BigEndian.PutUint16(vec[0:], dims)
	for i := range o.chunks {
		l := ls[i%len(ls)]
		c := w.rng.IntN(len(w.centres))
		v := w.near(c, o.noise)
		for k, x := range v {
			binary.BigEndian.PutUint32(vec[4+4*k:], math.Float32bits(x))
		}
		id := uuid.Must(uuid.NewV7())
		text := fmt.Sprintf("chunk %d of cluster %d", i, c)
		_ = binary.Write(bw, binary.BigEndian, int16(11))
		field(id[:])
		field(tenant[:])
		field(l.node[:])
		field(l.material[:])
		field(i32(i / len(ls)))
		field([]byte("paragraph"))
		field([]byte(text))
		field(i32(100))
		field([]byte(fmt.Sprintf("%064x", i)))
		field(vec)
		field([]byte("text-embedding-3-small"))
		if bw.Len() > 1<<20 {
			if _, err := out.Write(bw.Bytes()); err != nil {
				return err
			}
			bw.Reset()
		}
	}
	_ = binary.Write(bw, binary.BigEndian, int16(-1))
	_, err := out.Write(bw.Bytes())
	return err
}

// measureArgs are the measure phase's inputs: the tenant, the app(s) per
// index form, and the optional CPU profile of the app at base.
type measureArgs struct {
	tenant, base, key, embedAddr string
	forms                        []string
	bases                        map[string]string
	profileAddr, profileOut      string
}

// parseBases reads form=URL pairs; without any, base serves the form
// this bench binary was built with (the shipped one).
func parseBases(spec, base string) map[string]string {
	out := map[string]string{}
	for _, kv := range strings.Split(spec, ",") {
		if f, u, ok := strings.Cut(kv, "="); ok {
			out[f] = u
		}
	}
	if len(out) == 0 && base != "" {
		out[postgres.IndexForm()] = base
	}
	return out
}

// measure runs both cases for every index form against the loaded data
// and the running app(s).
func measure(ctx context.Context, pool *pgxpool.Pool, o opts, a measureArgs) error {
	w := newWorld(o)
	tenant := uuid.MustParse(a.tenant)
	queries := make([][]float32, o.queries)
	for i := range queries {
		queries[i] = w.near(w.rng.IntN(len(w.centres)), o.noise)
	}
	stop, err := serveEmbeddings(a.embedAddr, queries)
	if err != nil {
		return err
	}
	defer stop()
	var root, chapter uuid.UUID
	if err := pool.QueryRow(ctx, `SELECT id FROM material_nodes WHERE tenant_id = $1 AND parent_materialnode_id IS NULL`, tenant).Scan(&root); err != nil {
		return err
	}
	if err := pool.QueryRow(ctx, `SELECT id FROM material_nodes WHERE parent_materialnode_id = $1 ORDER BY "order" LIMIT 1`, root).Scan(&chapter); err != nil {
		return err
	}
	var all, sub int
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM material_chunks WHERE tenant_id = $1`, tenant).Scan(&all)
	_ = pool.QueryRow(ctx, `SELECT count(*) FROM material_chunks c JOIN material_nodes n ON n.id = c.materialnode_id
		WHERE n.parent_materialnode_id = $1`, chapter).Scan(&sub)
	fmt.Printf("tenant: %d chunks; subtree (one of 20 chapters): %d chunks (%.1f %%); %d timed queries per case, ef_search %d; load %s\n",
		all, sub, 100*float64(sub)/float64(all), o.queries, o.efSearch, loadavg())
	store := postgres.NewSearchStore(&postgres.DB{Pool: pool}, o.efSearch)
	for _, c := range []struct {
		name string
		node uuid.UUID
	}{{"tenant", root}, {"subtree", chapter}} {
		exact, exactP, err := exactTop(ctx, pool, store, o, tenant, c.node, queries)
		if err != nil {
			return err
		}
		if err := runCase(ctx, pool, store, o, caseArgs{name: c.name, forms: a.forms, tenant: tenant, node: c.node,
			queries: queries, exact: exact, exactP50: exactP, bases: a.bases, key: a.key}); err != nil {
			return err
		}
	}
	if a.profileAddr != "" {
		return profileEndpoint(ctx, pool, a, root, len(queries))
	}
	return nil
}

// exactTop is the exact top-10 of the first exactQueries queries (index
// scans off) and the p50 of that scan.
func exactTop(ctx context.Context, pool *pgxpool.Pool, store *postgres.SearchStore, o opts, tenant, node uuid.UUID,
	queries [][]float32) ([][]uuid.UUID, float64, error) {
	_, sql := store.VectorSQL(postgres.IndexVector)
	exact := make([][]uuid.UUID, o.exactQueries)
	var times []float64
	for i := range o.exactQueries {
		t0 := time.Now()
		ids, err := topIDs(ctx, pool, `SELECT set_config('enable_indexscan', 'off', true)`, sql, node, tenant, queries[i])
		if err != nil {
			return nil, 0, fmt.Errorf("exact: %w", err)
		}
		times = append(times, ms(time.Since(t0)))
		exact[i] = ids
	}
	return exact, pcts(times)[0], nil
}

type caseArgs struct {
	name         string
	forms        []string
	tenant, node uuid.UUID
	queries      [][]float32
	exact        [][]uuid.UUID
	exactP50     float64
	bases        map[string]string
	key          string
}

// timings are one form's figures of a case.
type timings struct {
	sql, api             []float64
	sqlRecall, apiRecall float64
}

// runCase times every form of a case. The forms take turns query by
// query, so on a shared machine a burst of load hits them alike instead
// of whichever form ran during it.
func runCase(ctx context.Context, pool *pgxpool.Pool, store *postgres.SearchStore, o opts, c caseArgs) error {
	stmts := map[string][2]string{}
	for _, form := range c.forms {
		settings, sql := store.VectorSQL(form)
		idx, err := planIndex(ctx, pool, settings, sql, c.node, c.tenant, c.queries[0])
		if err != nil {
			return err
		}
		if idx != indexDDL[form].name {
			return fmt.Errorf("%s/%s: the plan scans %q, not the %s index", c.name, form, idx, form)
		}
		stmts[form] = [2]string{settings, sql}
	}
	t := map[string]*timings{}
	for _, form := range c.forms {
		t[form] = &timings{}
	}
	// The SQL alone, warm: every query once untimed, then timed.
	for pass := range 2 {
		for i, q := range c.queries {
			for _, form := range c.forms {
				t0 := time.Now()
				ids, err := topIDs(ctx, pool, stmts[form][0], stmts[form][1], c.node, c.tenant, q)
				if err != nil {
					return fmt.Errorf("sql: %w", err)
				}
				if pass == 1 {
					t[form].sql = append(t[form].sql, ms(time.Since(t0)))
					if i < o.exactQueries {
						t[form].sqlRecall += recall(c.exact[i], ids)
					}
				}
			}
		}
	}
	// The endpoint: GET /nodes/{id}/search?mode=vector, the query embedded
	// by the fake embeddings server; one untimed pass warms the apps.
	client := &http.Client{Timeout: 30 * time.Second}
	for pass := range 2 {
		for i := range c.queries {
			for _, form := range c.forms {
				base := c.bases[form]
				if base == "" {
					continue
				}
				t0 := time.Now()
				ids, mode, err := apiSearch(client, base, c.key, c.node, i)
				if err != nil {
					return err
				}
				if mode != "vector" {
					return fmt.Errorf("endpoint answered mode %q", mode)
				}
				if pass == 1 {
					t[form].api = append(t[form].api, ms(time.Since(t0)))
					if i < o.exactQueries {
						t[form].apiRecall += recall(c.exact[i], ids)
					}
				}
			}
		}
	}
	for _, form := range c.forms {
		report(o, c, form, t[form])
	}
	return nil
}

// report prints one form's figures of a case.
func report(o opts, c caseArgs, form string, t *timings) {
	n := float64(o.exactQueries)
	sqlP := pcts(t.sql)
	name := c.name + "." + form
	r := func(fig string, v float64, unit, target string) {
		fmt.Printf("RESULT search.%s.%s %.3f %s %s\n", name, fig, v, unit, target)
	}
	fmt.Printf("%s (%s index): recall@10 SQL %.3f; SQL p50/p95/p99 %.2f/%.2f/%.2f ms; exact scan p50 %.1f ms (speed-up %.0fx); load %s\n",
		c.name, form, t.sqlRecall/n, sqlP[0], sqlP[1], sqlP[2], c.exactP50, c.exactP50/sqlP[0], loadavg())
	r("sql_recall_at_10", t.sqlRecall/n, "ratio", ">=0.95")
	r("sql_p50", sqlP[0], "ms", "")
	r("sql_p95", sqlP[1], "ms", "")
	r("sql_p99", sqlP[2], "ms", "")
	r("exact_p50", c.exactP50, "ms", "")
	r("speedup_vs_exact", c.exactP50/sqlP[0], "x", ">=20")
	if len(t.api) == 0 {
		fmt.Printf("%s (%s index): no app serves this form; endpoint not timed\n", c.name, form)
		return
	}
	apiP := pcts(t.api)
	fmt.Printf("%s (%s index): endpoint recall@10 %.3f; endpoint p50/p95/p99 %.2f/%.2f/%.2f ms (p50 beyond the SQL %.2f ms)\n",
		c.name, form, t.apiRecall/n, apiP[0], apiP[1], apiP[2], apiP[0]-sqlP[0])
	r("recall_at_10", t.apiRecall/n, "ratio", ">=0.95")
	r("endpoint_p50", apiP[0], "ms", "")
	r("endpoint_p95", apiP[1], "ms", "<=20")
	r("endpoint_p99", apiP[2], "ms", "")
}

// planIndex is the index the vector statement's plan scans (EXPLAIN with
// the statement's settings): the ORDER BY expression must match the
// index's for PostgreSQL to use it.
func planIndex(ctx context.Context, pool *pgxpool.Pool, settings, sql string, node, tenant uuid.UUID, q []float32) (string, error) {
	var plan []byte
	err := pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, settings); err != nil {
			return err
		}
		return tx.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+sql, pgx.QueryExecModeExec, node, tenant,
			postgres.VectorLiteral(q), "text-embedding-3-small", 10).Scan(&plan)
	})
	if err != nil {
		return "", fmt.Errorf("explain: %w", err)
	}
	for _, ix := range indexDDL {
		if bytes.Contains(plan, []byte(`"Index Name": "`+ix.name+`"`)) {
			return ix.name, nil
		}
	}
	return "none", nil
}

// profileEndpoint times the endpoint's parts beyond the SQL: the embed
// round trip to the fake alone, one committed single-row INSERT (what the
// audit row of the query embedding and the rate limiter's bucket update
// each wait for), then a CPU profile of the app while the whole-tenant
// endpoint is called for the profile's duration.
func profileEndpoint(ctx context.Context, pool *pgxpool.Pool, a measureArgs, root uuid.UUID, queries int) error {
	if _, err := pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS bench_commit (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return err
	}
	var commitTimes []float64
	for range queries {
		t0 := time.Now()
		if _, err := pool.Exec(ctx, `INSERT INTO bench_commit DEFAULT VALUES`); err != nil {
			return err
		}
		commitTimes = append(commitTimes, ms(time.Since(t0)))
	}
	c := pcts(commitTimes)
	fmt.Printf("one committed INSERT: p50/p95/p99 %.2f/%.2f/%.2f ms\n", c[0], c[1], c[2])
	fmt.Printf("RESULT search.commit_p50 %.3f ms \n", c[0])
	client := &http.Client{Timeout: 30 * time.Second}
	var embedTimes []float64
	for i := range queries {
		t0 := time.Now()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+a.embedAddr+"/v1/embeddings",
			strings.NewReader(fmt.Sprintf(`{"model":"text-embedding-3-small","input":["bench query %d"]}`, i)))
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req) //nolint:gosec // G704: the bench's own fake on loopback
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		embedTimes = append(embedTimes, ms(time.Since(t0)))
	}
	p := pcts(embedTimes)
	fmt.Printf("embed round trip to the fake (from the bench): p50/p95/p99 %.2f/%.2f/%.2f ms\n", p[0], p[1], p[2])
	fmt.Printf("RESULT search.embed_fake_p50 %.3f ms \n", p[0])
	const seconds = 15
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet,
			fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", a.profileAddr, seconds), nil)
		resp, err := client.Do(req) //nolint:gosec // G704: the app's metrics listener on loopback
		if err != nil {
			done <- err
			return
		}
		defer resp.Body.Close()
		f, err := os.Create(a.profileOut)
		if err != nil {
			done <- err
			return
		}
		_, err = io.Copy(f, resp.Body)
		done <- errors.Join(err, f.Close())
	}()
	base := a.bases[postgres.IndexForm()]
	if base == "" {
		base = a.base
	}
	calls, t0 := 0, time.Now()
	for time.Since(t0) < seconds*time.Second {
		if _, _, err := apiSearch(client, base, a.key, root, calls%queries); err != nil {
			return err
		}
		calls++
	}
	fmt.Printf("profile: %d endpoint calls in %d s written to %s\n", calls, seconds, a.profileOut)
	return <-done
}

func topIDs(ctx context.Context, pool *pgxpool.Pool, settings, sql string, node, tenant uuid.UUID, q []float32) ([]uuid.UUID, error) {
	var ids []uuid.UUID
	err := pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, settings); err != nil {
			return err
		}
		// QueryExecModeExec: no prepared statement, so no cached generic
		// plan: the exact phase (index scans off) must not leave its plan
		// to the timed phase.
		rows, err := tx.Query(ctx, sql, pgx.QueryExecModeExec, node, tenant, postgres.VectorLiteral(q), "text-embedding-3-small", 10)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				return err
			}
			ids = append(ids, uuid.UUID(vals[0].([16]byte)))
		}
		return rows.Err()
	})
	return ids, err
}

func apiSearch(c *http.Client, base, key string, node uuid.UUID, i int) ([]uuid.UUID, string, error) {
	u := fmt.Sprintf("%s/api/v1/nodes/%s/search?mode=vector&limit=10&q=%s", base, node, url.QueryEscape(fmt.Sprintf("bench query %d", i)))
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, u, nil) //nolint:gosec // G704: the app this bench started, on loopback
	req.Header.Set("X-API-Key", key)
	resp, err := c.Do(req) //nolint:gosec // G704: as above
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	var body struct {
		Mode  string `json:"mode"`
		Items []struct {
			ChunkID uuid.UUID `json:"chunk_id"`
		} `json:"items"`
	}
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		return nil, "", fmt.Errorf("search: %d %s", resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, "", err
	}
	ids := make([]uuid.UUID, len(body.Items))
	for k, it := range body.Items {
		ids[k] = it.ChunkID
	}
	return ids, body.Mode, nil
}

// serveEmbeddings answers POST /v1/embeddings in the OpenAI wire format:
// "bench query N" embeds to queries[N].
func serveEmbeddings(addr string, queries [][]float32) (func(), error) {
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Input []string `json:"input"`
			Model string   `json:"model"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		data := make([]map[string]any, len(req.Input))
		for k, in := range req.Input {
			var n int
			_, _ = fmt.Sscanf(in, "bench query %d", &n)
			data[k] = map[string]any{"object": "embedding", "index": k, "embedding": queries[n%len(queries)]}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"object": "list", "model": req.Model, "data": data,
			"usage": map[string]any{"prompt_tokens": 3, "total_tokens": 3}})
	})}
	go func() { _ = srv.Serve(ln) }()
	return func() { _ = srv.Close() }, nil
}

func recall(exact, got []uuid.UUID) float64 {
	if len(exact) == 0 {
		return 1
	}
	set := map[uuid.UUID]bool{}
	for _, id := range exact {
		set[id] = true
	}
	hit := 0
	for _, id := range got {
		if set[id] {
			hit++
		}
	}
	return float64(hit) / float64(len(exact))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func pcts(v []float64) [3]float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	at := func(p float64) float64 { return s[min(len(s)-1, int(math.Ceil(p*float64(len(s))))-1)] }
	return [3]float64{at(0.50), at(0.95), at(0.99)}
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := bytes.Fields(b)
	if len(f) < 3 {
		return "?"
	}
	return string(bytes.Join(f[:3], []byte(" ")))
}
