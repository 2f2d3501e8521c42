#!/usr/bin/env python3
"""Fake upstream for the nginx tests: stands in for the app or for Netdata.

Answers every request with JSON describing what arrived (method, path with
query, the headers nginx set, and for bodies the byte count and SHA-256), so
the tests can check what nginx forwarded. Bodies are read in chunks and never
kept, so a 200 MB upload costs no memory here either. /status/<code> answers
with that status (used for the "application errors pass through" check).

Usage: fake_backend.py PORT NAME [LOG]   (listens on 127.0.0.1 only)
With LOG, every request is also appended to that file as one JSON line that
includes the first 64 KiB of the body (for checks of what a client sent).
"""
import hashlib
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1])
NAME = sys.argv[2]
LOG = sys.argv[3] if len(sys.argv) > 3 else None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as nginx uses towards upstreams

    def log_message(self, fmt, *args):  # quiet: the tests read responses
        pass

    def _read_body(self):
        digest = hashlib.sha256()
        self.body_head = b""
        count = 0
        first_byte_at = None
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    break
                remaining = size
                while remaining:
                    chunk = self.rfile.read(min(remaining, 1 << 20))
                    if first_byte_at is None:
                        first_byte_at = time.time()
                    self._keep(chunk)
                    digest.update(chunk)
                    count += len(chunk)
                    remaining -= len(chunk)
                self.rfile.readline()
        else:
            remaining = int(self.headers.get("Content-Length", "0") or 0)
            while remaining:
                chunk = self.rfile.read(min(remaining, 1 << 20))
                if not chunk:
                    break
                if first_byte_at is None:
                    first_byte_at = time.time()
                self._keep(chunk)
                digest.update(chunk)
                count += len(chunk)
                remaining -= len(chunk)
        return count, digest.hexdigest(), first_byte_at

    def _keep(self, chunk):
        if len(self.body_head) < 65536:
            self.body_head += chunk[: 65536 - len(self.body_head)]

    def _answer(self):
        started = time.time()
        count, sha, first_byte_at = self._read_body()
        status = 200
        if self.path.startswith("/status/"):
            status = int(self.path.split("/")[2])
        elif self.path.startswith("/missing"):
            status = 404
        record = {
            "backend": NAME,
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body_bytes": count,
            "body_sha256": sha,
            # Seconds between the request head and the first body byte, and
            # the whole read: with streaming the first byte arrives long
            # before the client has finished sending.
            "first_byte_after": (first_byte_at - started) if first_byte_at else None,
            "read_seconds": time.time() - started,
        }
        if LOG:
            with open(LOG, "a") as log:
                log.write(json.dumps(dict(record, body_head=self.body_head.decode("latin-1"))) + "\n")
        body = json.dumps(record).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        # Headers the edge must replace or drop (see proxy_hide_header).
        self.send_header("X-Powered-By", "fake-backend")
        self.send_header("X-Frame-Options", "SAMEORIGIN")
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer


ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
