"""MkDocs hook: the generated parts of the documentation.

Two pages are partly generated at build time, so they cannot drift from the
files they describe:

* ``<!-- generated: openapi -->`` is replaced by a reference rendered from
  ``docs/api/openapi.json`` (the document the API serves; a Go test keeps the
  committed copy in sync). The result is plain Markdown: no JavaScript, no
  CDN, so the page works offline and on any MkDocs/Material version.
* ``<!-- generated: env-example -->`` is replaced by one table per section of
  ``.env.example``, which documents every variable the binary reads (a Go
  test enforces that).

Only the standard library is used; the hook runs under Debian's MkDocs 1.4
and the pinned MkDocs 1.6 alike. Hooks were added in MkDocs 1.4.
"""

import json
import os
import re

from mkdocs.exceptions import PluginError

OPENAPI_MARKER = "<!-- generated: openapi -->"
ENV_MARKER = "<!-- generated: env-example -->"
METHODS = ("get", "post", "put", "patch", "delete", "head", "options")


def on_page_markdown(markdown, page, config, files):  # noqa: ARG001 (MkDocs passes these by name)
    if OPENAPI_MARKER in markdown:
        path = os.path.join(config["docs_dir"], "api", "openapi.json")
        try:
            with open(path, encoding="utf-8") as f:
                spec = json.load(f)
        except (OSError, ValueError) as e:
            raise PluginError(f"generate.py: cannot read {path}: {e}") from e
        markdown = markdown.replace(OPENAPI_MARKER, render_openapi(spec))
    if ENV_MARKER in markdown:
        root = os.path.dirname(os.path.abspath(config["config_file_path"]))
        path = os.path.join(root, ".env.example")
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            raise PluginError(f"generate.py: cannot read {path}: {e}") from e
        markdown = markdown.replace(ENV_MARKER, render_env(text))
    return markdown


# --- OpenAPI ------------------------------------------------------------------


def slug(name):
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def cell(text):
    """Makes plain text safe for one table cell: one line, no HTML, no pipes."""
    text = " ".join(str(text).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("|", "\\|")


def code(value):
    """Inline code for a value; JSON for non-strings."""
    text = value if isinstance(value, str) else json.dumps(value)
    tick = "``" if "`" in text else "`"
    return f"{tick}{text}{tick}"


def type_of(schema):
    """A short human-readable type; component references become links."""
    if not schema:
        return "any"
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#schema-{slug(name)})"
    for key, sep in (("oneOf", " or "), ("anyOf", " or "), ("allOf", " and ")):
        if key in schema:
            return sep.join(type_of(s) for s in schema[key])
    if "enum" in schema:
        return "one of " + ", ".join(code(v) for v in schema["enum"])
    if "const" in schema:
        return code(schema["const"])
    types = schema.get("type")
    if types is None:
        return "object" if "properties" in schema else "any"
    if not isinstance(types, list):
        types = [types]
    parts = []
    for t in types:
        if t == "array":
            parts.append("array of " + type_of(schema.get("items", {})))
        elif t == "object" and isinstance(schema.get("additionalProperties"), dict):
            parts.append("map of string to " + type_of(schema["additionalProperties"]))
        elif schema.get("format") and t != "null":
            parts.append(f"{t} ({schema['format']})")
        else:
            parts.append(t)
    return " or ".join(parts)


def bounds(lo, hi, unit=""):
    """`1..500`, `at most 500`, `at least 1` (with an optional unit)."""
    unit = f" {unit}" if unit else ""
    if lo is not None and hi is not None:
        return f"{lo}..{hi}{unit}"
    if hi is not None:
        return f"at most {hi}{unit}"
    return f"at least {lo}{unit}"


def constraints(schema):
    notes = []
    lo, hi = schema.get("minLength"), schema.get("maxLength")
    if lo is not None or hi is not None:
        notes.append(bounds(lo, hi, "characters"))
    lo, hi = schema.get("minimum"), schema.get("maximum")
    if lo is not None or hi is not None:
        notes.append(bounds(lo, hi))
    lo, hi = schema.get("minItems"), schema.get("maxItems")
    if lo is not None or hi is not None:
        notes.append(bounds(lo, hi, "items"))
    if "pattern" in schema:
        notes.append("pattern " + code(schema["pattern"]))
    if "default" in schema:
        notes.append("default " + code(schema["default"]))
    for example in schema.get("examples", [])[:1]:
        notes.append("example " + code(example))
    if schema.get("deprecated"):
        notes.append("**deprecated**")
    return notes


def describe(schema, text=""):
    """The description (or `text`, when given) and the constraints of a schema."""
    text = cell(text or schema.get("description", ""))
    notes = constraints(schema)
    if notes:
        text = (text + " " if text else "") + "(" + "; ".join(notes) + ")"
    return text


def operations(spec):
    for path, item in spec.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in METHODS:
            if method in item:
                yield path, method, item[method], shared


def render_operation(spec, path, method, op, shared):
    op_id = op.get("operationId") or slug(f"{method}-{path}")
    title = op.get("summary") or f"{method.upper()} {path}"
    out = [f"### {title} {{ #{slug(op_id)} }}", "", f"`{method.upper()} {path}`", ""]
    security = op.get("security", spec.get("security", []))
    if security:
        out += ["Requires an API key in the `X-API-Key` header.", ""]
    else:
        out += ["No authentication.", ""]
    if op.get("description"):
        out += [op["description"], ""]
    params = shared + op.get("parameters", [])
    if params:
        out += ["| Parameter | In | Type | Required | Description |", "|---|---|---|---|---|"]
        for p in params:
            if "$ref" in p:
                p = resolve(spec, p["$ref"])
            schema = p.get("schema", {})
            desc = describe(schema, p.get("description", ""))
            required = "yes" if p.get("required") else "no"
            out.append(f"| `{p['name']}` | {p.get('in', '')} | {type_of(schema)} | {required} | {desc} |")
        out.append("")
    body = op.get("requestBody")
    if body:
        if "$ref" in body:
            body = resolve(spec, body["$ref"])
        required = " (required)" if body.get("required") else ""
        for ctype, media in body.get("content", {}).items():
            schema = media.get("schema", {})
            if "$ref" not in schema and schema.get("properties"):
                out += [f"Request body{required}: `{ctype}` with these fields:", ""]
                out += fields_table(schema)
            else:
                out += [f"Request body{required}: `{ctype}` {type_of(schema)}", ""]
    responses = op.get("responses", {})
    if responses:
        out += ["| Status | Meaning | Body |", "|---|---|---|"]
        for status, resp in responses.items():
            if "$ref" in resp:
                resp = resolve(spec, resp["$ref"])
            bodies = [type_of(m.get("schema", {})) for m in resp.get("content", {}).values()]
            out.append(f"| {status} | {cell(resp.get('description', ''))} | {', '.join(bodies) or '–'} |")
        out.append("")
    return out


def resolve(spec, ref):
    node = spec
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return node


def render_schema(name, schema):
    out = [f"### {name} {{ #schema-{slug(name)} }}", ""]
    if schema.get("description"):
        out += [schema["description"], ""]
    props = schema.get("properties")
    if not props:
        out += [f"Type: {type_of(schema)}", ""]
        return out
    return out + fields_table(schema)


def fields_table(schema):
    """One row per property of an object schema."""
    required = set(schema.get("required", []))
    out = ["| Field | Type | Required | Notes |", "|---|---|---|---|"]
    for prop, sub in schema.get("properties", {}).items():
        out.append(f"| `{prop}` | {type_of(sub)} | {'yes' if prop in required else 'no'} | {describe(sub)} |")
    out.append("")
    return out


def render_openapi(spec):
    info = spec.get("info", {})
    ops = list(operations(spec))
    out = [
        f"*Generated from `docs/api/openapi.json`: OpenAPI {spec.get('openapi', '?')}, "
        f"{info.get('title', 'API')} version `{info.get('version', '?')}`, "
        f"{len(ops)} operations.*",
        "",
        "## Operations",
        "",
        "| Method | Path | Summary |",
        "|---|---|---|",
    ]
    for path, method, op, _ in ops:
        anchor = slug(op.get("operationId") or f"{method}-{path}")
        out.append(f"| {method.upper()} | `{path}` | [{cell(op.get('summary', ''))}](#{anchor}) |")
    out.append("")

    tags = [t["name"] for t in spec.get("tags", [])]
    for _, _, op, _ in ops:
        for t in op.get("tags", ["other"]):
            if t not in tags:
                tags.append(t)
    for tag in tags:
        tagged = [o for o in ops if tag in o[2].get("tags", ["other"])]
        if not tagged:
            continue
        out += [f"## {tag.capitalize()}", ""]
        for path, method, op, shared in tagged:
            out += render_operation(spec, path, method, op, shared)

    schemes = spec.get("components", {}).get("securitySchemes", {})
    if schemes:
        out += ["## Security schemes", "", "| Name | Type | Where |", "|---|---|---|"]
        for name, s in schemes.items():
            where = f"{s.get('in', '')} `{s['name']}`" if "name" in s else s.get("scheme", "")
            out.append(f"| {name} | {s.get('type', '')} | {where} |")
        out.append("")

    schemas = spec.get("components", {}).get("schemas", {})
    if schemas:
        out += ["## Schemas", ""]
        for name in sorted(schemas):
            out += render_schema(name, schemas[name])
    return "\n".join(out)


# --- .env.example -------------------------------------------------------------

SECTION = re.compile(r"^#\s*-{2,}\s*(.+?)\s*-*\s*$")
VARIABLE = re.compile(r"^([A-Z][A-Z0-9_]*)=(.*)$")
# Variable names inside descriptions (HTTP_ADDR, POSTGRES_*) are set as code.
ENV_NAME = re.compile(r"(?<![\w`])([A-Z][A-Z0-9]*_[A-Z0-9_]*\*?)(?![\w`])")


def render_env(text):
    """One table per `# --- Section ---` of .env.example.

    A variable's description is the comment block directly above it. The file
    header (before the first section) is not a description.
    """
    sections, comments, current, count = [], [], None, 0
    for raw in text.splitlines():
        line = raw.strip()
        m = SECTION.match(line)
        if m:
            current = (m.group(1), [])
            sections.append(current)
            comments = []
        elif line.startswith("#"):
            comments.append(line.lstrip("#").strip())
        elif not line:
            comments = []
        else:
            m = VARIABLE.match(line)
            if not m:
                raise PluginError(f"generate.py: .env.example: cannot parse line {raw!r}")
            if current is None:
                current = ("General", [])
                sections.append(current)
            current[1].append((m.group(1), m.group(2), " ".join(comments)))
            comments = []
            count += 1
    out = [f"*Generated from `.env.example`: {count} variables.*", ""]
    for title, rows in sections:
        if not rows:
            continue
        out += [f"### {title}", "", "| Variable | Value in `.env.example` | Description |", "|---|---|---|"]
        for name, value, desc in rows:
            shown = code(value) if value else "*(empty)*"
            desc = ENV_NAME.sub(r"`\1`", cell(desc))
            desc = desc.replace("(secret)", "*(secret)*").replace("REQUIRED", "**Required**")
            out.append(f"| `{name}` | {shown} | {desc or '–'} |")
        out.append("")
    return "\n".join(out)
