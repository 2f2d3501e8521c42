#!/usr/bin/env bash
# Documentation check (make test-docs, run by .ci/run):
#   1. installs Debian's mkdocs, mkdocs-material, chromium and two Python
#      modules for the DevTools client, once and quietly;
#   2. builds the site with `mkdocs build --strict` (any warning fails);
#   3. serves it on loopback and loads pages in headless Chromium through the
#      DevTools protocol:
#        - home and API reference: rendered, screenshot not blank, no console
#          error, no uncaught exception, no failed or external request;
#        - every page with a mermaid diagram: each renders to an SVG (mermaid is
#          served from the npm registry's package in place of Material's CDN
#          URL, so the check needs no CDN and validates the diagram syntax).
# The site loads nothing from third parties: any request that leaves
# 127.0.0.1 (other than the mermaid script above) is an error.
#
#   scripts/ci-docs.sh [OUT_DIR]    screenshots go to OUT_DIR (default: a temp dir)
#
# Ends with "N passed, 0 failed"; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

out="${1:-$(mktemp -d /tmp/cs-docs.XXXXXX)}"
mkdir -p "$out"
cache="${CS_CACHE_DIR:-/var/cache/course-supporter}/docs"
mkdir -p "$cache"

# Debian's python3, not a pyenv/venv one: the apt modules live there.
py=/usr/bin/python3
export PYTHONDONTWRITEBYTECODE=1
pkgs=(mkdocs mkdocs-material chromium python3-websocket python3-pil fonts-liberation)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
	echo "ci-docs: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

site=$(mktemp -d /tmp/cs-site.XXXXXX)
trap 'rm -rf "$site"' EXIT

log="$out/mkdocs.log"
if ! "$py" -m mkdocs build --strict --quiet --site-dir "$site" >"$log" 2>&1; then
	cat "$log" >&2
	echo "ci-docs: mkdocs build --strict failed" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
echo "ci-docs: mkdocs build --strict ok ($(find "$site" -name '*.html' | wc -l) pages, $(($(date +%s) - start)) s)"

chrome="${CHROMIUM:-$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)}"
[[ -x "$chrome" ]] || { echo "ci-docs: no chromium found" >&2; echo "1 passed, 1 failed"; exit 1; }

# The DevTools client. Pass/fail lines go to stdout; the last line is the tally.
status=0
"$py" - "$site" "$out" "$chrome" "$cache" "$start" <<'PY' || status=$?
import atexit, base64, functools, http.server, json, os, re, shutil, subprocess, sys, tarfile
import tempfile, threading, time, traceback, urllib.request

import websocket  # python3-websocket
from PIL import Image  # python3-pil

site, out, chrome, cache, start = sys.argv[1:6]

passed, failed = 1, 0  # the strict build above passed

def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name}: {detail}")

def crashed(kind, value, tb):
    """An unexpected error still ends with the tally (the browser is killed at exit)."""
    traceback.print_exception(kind, value, tb)
    print(f"FAIL browser session: {value!r}")
    print(f"{passed} passed, {failed + 1} failed")

sys.excepthook = crashed

# --- a loopback web server for the built site ---------------------------------
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=site))
threading.Thread(target=httpd.serve_forever, daemon=True).start()
base = f"http://127.0.0.1:{httpd.server_port}/"

# --- headless Chromium --------------------------------------------------------
profile = tempfile.mkdtemp(prefix="cs-chromium.")
browser = subprocess.Popen(
    [chrome, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
     "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
     f"--user-data-dir={profile}", "--remote-debugging-port=0", "--window-size=1280,900",
     "about:blank"],
    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
atexit.register(shutil.rmtree, profile, ignore_errors=True)
atexit.register(browser.kill)  # runs first; a no-op once terminated

def devtools_port():
    path = os.path.join(profile, "DevToolsActivePort")
    for _ in range(300):
        if os.path.exists(path):
            lines = open(path).read().split()
            if lines:
                return int(lines[0])
        time.sleep(0.1)
    raise SystemExit("ci-docs: chromium did not start")

port = devtools_port()
targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
page = next(t for t in targets if t["type"] == "page")
ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60, suppress_origin=True)

seq = 0
events = []
responses = {}

def send(method, **params):
    """Sends one command and returns its result. Events that arrive meanwhile
    are handled (handlers may send commands themselves: replies are matched
    by id, whichever call reads them)."""
    global seq
    seq += 1
    mine = seq
    ws.send(json.dumps({"id": mine, "method": method, "params": params}))
    while mine not in responses:
        dispatch(json.loads(ws.recv()))
    msg = responses.pop(mine)
    if "error" in msg:
        raise RuntimeError(f"{method}: {msg['error']}")
    return msg.get("result", {})

def dispatch(msg):
    if "id" in msg:
        responses[msg["id"]] = msg
    else:
        handle(msg)

mermaid_cache = {}

def mermaid_body(url):
    """Material loads mermaid from unpkg.com; serve the same version from npm."""
    m = re.search(r"/mermaid@([^/]+)/(.+)$", url)
    if not m:
        return None
    version, path = m.group(1), m.group(2)
    key = (version, path)
    if key not in mermaid_cache:
        tgz = os.path.join(cache, f"mermaid-{version}.tgz")
        if not os.path.exists(tgz):
            name = subprocess.run(["npm", "pack", f"mermaid@{version}", "--silent", "--pack-destination", cache],
                                  check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
            os.replace(os.path.join(cache, name), tgz)
        with tarfile.open(tgz) as t:
            mermaid_cache[key] = t.extractfile(f"package/{path}").read()
    return mermaid_cache[key]

def handle(msg):
    method, p = msg.get("method"), msg.get("params", {})
    if method == "Fetch.requestPaused":
        url = p["request"]["url"]
        if url.startswith(base) or url.startswith("data:"):
            send("Fetch.continueRequest", requestId=p["requestId"])
            return
        body = None
        if "mermaid" in url and "unpkg.com" in url:
            try:
                body = mermaid_body(url)
            except Exception as e:  # reported as a failed check below
                events.append(("error", f"mermaid from npm: {e}"))
        if body is None:
            events.append(("error", f"external request: {url}"))
            send("Fetch.failRequest", requestId=p["requestId"], errorReason="BlockedByClient")
        else:
            send("Fetch.fulfillRequest", requestId=p["requestId"], responseCode=200,
                 responseHeaders=[{"name": "Content-Type", "value": "application/javascript"},
                                  {"name": "Access-Control-Allow-Origin", "value": "*"}],
                 body=base64.b64encode(body).decode())
        return
    if method == "Runtime.exceptionThrown":
        d = p["exceptionDetails"]
        text = d.get("exception", {}).get("description") or d.get("text")
        events.append(("error", f"uncaught exception: {text}"))
    elif method == "Runtime.consoleAPICalled" and p["type"] in ("error", "assert"):
        text = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
        events.append(("error", f"console.{p['type']}: {text}"))
    elif method == "Log.entryAdded" and p["entry"]["level"] == "error":
        e = p["entry"]
        events.append(("error", f"console ({e['source']}): {e['text']} {e.get('url', '')}".strip()))
    elif method == "Network.responseReceived" and p["response"]["status"] >= 400:
        events.append(("error", f"HTTP {p['response']['status']}: {p['response']['url']}"))
    elif method == "Network.loadingFailed" and not p.get("canceled"):
        events.append(("error", f"request failed: {p.get('errorText')} ({p.get('type')})"))
    elif method == "Page.loadEventFired":
        events.append(("load", ""))

for domain in ("Page", "Runtime", "Log", "Network"):
    send(f"{domain}.enable")
send("Fetch.enable", patterns=[{"urlPattern": "*"}])
# Mermaid renders into a closed shadow root; open it so the check can see the SVG.
send("Page.addScriptToEvaluateOnNewDocument", source="""
  const attach = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) { return attach.call(this, {...init, mode: "open"}); };
""")

def evaluate(expr):
    r = send("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
    if "exceptionDetails" in r:
        raise RuntimeError(r["exceptionDetails"].get("text"))
    return r["result"].get("value")

def pump(seconds):
    """Processes events for a while (lets scripts, workers and fonts settle)."""
    deadline = time.time() + seconds
    ws.settimeout(0.2)
    try:
        while time.time() < deadline:
            try:
                dispatch(json.loads(ws.recv()))
            except websocket.WebSocketTimeoutException:
                pass
    finally:
        ws.settimeout(60)

def visit(path, name, settle=1.5):
    events.clear()
    send("Page.navigate", url=base + path)
    deadline = time.time() + 30
    while not any(k == "load" for k, _ in events) and time.time() < deadline:
        pump(0.2)
    if not any(k == "load" for k, _ in events):
        events.append(("error", "page did not finish loading in 30 s"))
    pump(settle)
    shot = base64.b64decode(send("Page.captureScreenshot", format="png")["data"])
    file = os.path.join(out, f"{name}.png")
    with open(file, "wb") as f:
        f.write(shot)
    return file, [text for kind, text in events if kind == "error"]

def blank(file):
    """A screenshot is blank if it is (nearly) one colour."""
    img = Image.open(file).convert("RGB").resize((320, 225))
    colours = img.getcolors(maxcolors=320 * 225)
    top = max(c for c, _ in colours)
    return len(colours) < 20 or top / (320 * 225) > 0.98


# The generated pages cover their sources completely.
html = open(os.path.join(site, "configuration", "index.html"), encoding="utf-8").read()
names = re.findall(r"^([A-Z][A-Z0-9_]*)=", open(".env.example", encoding="utf-8").read(), re.M)
missing = [n for n in names if f"<code>{n}</code>" not in html]
check(f"configuration page lists all {len(names)} variables of .env.example", names and not missing,
      f"missing: {missing}")
html = open(os.path.join(site, "api", "index.html"), encoding="utf-8").read()
spec = json.load(open(os.path.join("docs", "api", "openapi.json"), encoding="utf-8"))
ops = [(m.upper(), p) for p, item in spec["paths"].items() for m in item if m in ("get", "post", "put", "patch", "delete")]
missing = [f"{m} {p}" for m, p in ops if f"<code>{m} {p}</code>" not in html]
check(f"API page documents all {len(ops)} operations of openapi.json", ops and not missing, f"missing: {missing}")

pages = [
    ("", "home", "Course Supporter", "Where to start"),
    ("api/", "api", "API reference", "Create a root node"),
]
for path, name, title, marker in pages:
    file, errors = visit(path, name)
    check(f"{name}: console clean", not errors, "; ".join(errors))
    check(f"{name}: screenshot not blank ({file})", not blank(file), "the page renders as one colour")
    h1 = evaluate("document.querySelector('article h1') && document.querySelector('article h1').textContent")
    text = evaluate("document.querySelector('article') ? document.querySelector('article').innerText : ''")
    check(f"{name}: content rendered", (h1 or "").strip().startswith(title) and marker in text,
          f"h1={h1!r}, marker {marker!r} {'found' if marker in text else 'missing'}")

# Every page with a mermaid diagram: each diagram renders to an SVG.
with_mermaid = sorted(
    os.path.relpath(os.path.join(d, f), site)
    for d, _, fs in os.walk(site) for f in fs
    if f == "index.html" and 'class="mermaid"' in open(os.path.join(d, f), encoding="utf-8").read())
for rel in with_mermaid:
    path = os.path.dirname(rel) + "/" if os.path.dirname(rel) else ""
    name = os.path.dirname(rel).replace("/", "-") or "home"
    file, errors = visit(path, name, settle=3)
    check(f"{name}: console clean", not errors, "; ".join(errors))
    diagrams = evaluate("""(() => {
      const raw = document.querySelectorAll('pre.mermaid, code.mermaid').length;
      const done = [...document.querySelectorAll('div.mermaid')].map(d => {
        const svg = d.shadowRoot && d.shadowRoot.querySelector('svg');
        return svg ? (/Syntax error/i.test(svg.textContent) ? 'syntax error' : 'svg') : 'empty';
      });
      return {raw, done};
    })()""")
    check(f"{name}: {len(diagrams['done'])} mermaid diagram(s) render", diagrams["raw"] == 0 and diagrams["done"]
          and all(d == "svg" for d in diagrams["done"]), json.dumps(diagrams))
check("mermaid diagrams found", len(with_mermaid) > 0, "no page has a mermaid diagram")

ws.close()
browser.terminate()
browser.wait(timeout=10)
httpd.shutdown()
print(f"ci-docs: screenshots in {out}; finished in {int(time.time() - int(start))} s")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
exit "$status"
