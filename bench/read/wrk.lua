-- wrk script of bench/read: prints one JSON line in the shape of
-- bench/httpload's report, so run.sh reads either client the same way.
-- It defines no response() hook: wrk then does not hand every response to
-- Lua, which keeps the client as cheap as pgbench's C client.
-- non2xx counts responses outside 2xx/3xx; errors, socket errors.
wrk.headers["X-API-Key"] = os.getenv("BENCH_KEY")

function done(summary, latency, requests)
	local e = summary.errors
	local secs = summary.duration / 1e6
	io.write(string.format(
		'{"client":"wrk","requests":%d,"seconds":%.3f,"rps":%.1f,"p50_ms":%.3f,"p95_ms":%.3f,"p99_ms":%.3f,"non2xx":%d,"errors":%d}\n',
		summary.requests, secs, summary.requests / secs,
		latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
		e.status, e.connect + e.read + e.write + e.timeout))
end
