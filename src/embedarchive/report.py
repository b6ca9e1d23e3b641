"""The offline HTML report inside an exported bundle: for each article, each embed as the article
showed it and as it was captured, the media, the hashes and the provenance.

One self-contained page: inline CSS, no script, no external resource (a Content-Security-Policy
forbids any), archived URLs shown as text rather than links, and every archived string escaped
by Jinja's autoescaping. Media are shown from the bundle's own ``media/`` folder.
"""

from __future__ import annotations

import json
from typing import Any

from jinja2 import Environment

from .display import isolate, player

TEMPLATE_V1 = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src 'self' file:; media-src 'self' file:; style-src 'unsafe-inline'">
<meta name="referrer" content="no-referrer">
<title>embedarchive evidence report</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#111}
h1,h2,h3{line-height:1.2} section{border-top:2px solid #444;margin-top:2rem}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:1rem}
.box{border:1px solid #bbb;border-radius:6px;padding:.6rem .8rem;overflow-wrap:anywhere}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f5f5f5;padding:.5rem}
table{border-collapse:collapse;width:100%;font-size:13px} td,th{border:1px solid #ccc;padding:2px 4px;
text-align:left;vertical-align:top;overflow-wrap:anywhere} code{font-size:12px}
img,video{max-width:100%;max-height:24rem} .muted{color:#555}
</style></head><body>
<h1>Evidence report</h1>
<p class="muted">Exported {{ created }} by embedarchive {{ version }}. Check this bundle with
<code>embedarchive verify --bundle FILE</code>; every file's sha256 is in <code>datapackage.json</code>,
every row's in the manifests under <code>manifests/</code>, sealed by the timestamp tokens under
<code>timestamps/</code>.</p>
{% for a in articles %}<section>
<h2>Article {{ a.id }}: {{ a.title or a.source }}</h2>
<table><tr><th>source</th><td>{{ a.source }}</td></tr><tr><th>URL</th><td>{{ a.final_url or a.url or "—" }}</td></tr>
<tr><th>retrieved</th><td>{{ a.retrieved_at }}</td></tr><tr><th>sha256</th><td><code>{{ a.sha256 }}</code> ({{ a.size }} bytes, {{ a.encoding }})</td></tr>
<tr><th>file</th><td><code>{{ a.raw_path }}</code></td></tr></table>
{% for d in a.detections %}<h3>Embed {{ loop.index }}: {{ d.platform }} ({{ d.markup }} at offset {{ d.offset }})</h3>
<div class="pair"><div class="box"><b>As the article showed it</b>
<p>{{ d.author or "" }} {% if d.handle %}@{{ d.handle }}{% endif %} {{ d.date or "" }}</p>
{% if d.text %}<pre>{{ d.text }}</pre>{% endif %}
{% if d.links %}<p class="muted">links: {{ d.links|join(" ") }}</p>{% endif %}
<p class="muted">resolution: {{ d.resolution }} {{ d.resolved_url or "" }}</p></div>
<div class="box"><b>As captured</b>
{% for c in d.captures %}<p><b>capture {{ c.id }}</b> {{ c.status }} via {{ c.method or "—" }} at {{ c.finished_at }}</p>
{% if c.post %}<p>{{ c.post.uploader or "" }} @{{ c.post.uploader_id or "" }} {{ c.post.created_at or "" }}</p>
{% if c.post.text %}<pre>{{ c.post.text }}</pre>{% endif %}{% endif %}
{% if c.error %}<p class="muted">{{ c.error }}</p>{% endif %}
{% for m in c.media %}{% if m.mime.startswith("image/") %}<img src="{{ m.path }}" alt="{{ m.kind }}">
{% elif m.mime.startswith("video/") %}<video controls preload="metadata" src="{{ m.path }}"></video>{% endif %}
<p class="muted">{{ m.kind }} {{ m.mime }} {{ m.size }} bytes<br>sha256 <code>{{ m.sha256 }}</code><br>from {{ m.source_url }}</p>
{% endfor %}
<details><summary>{{ c.exchanges|length }} HTTP exchange(s)</summary><table>
<tr><th>time</th><th>request</th><th>status</th><th>body sha256</th><th>WARC record</th></tr>
{% for e in c.exchanges %}<tr><td>{{ e.started_at }}</td><td>{{ e.method }} {{ e.url }}</td><td>{{ e.status or e.error }}</td>
<td><code>{{ e.body_sha256 or "" }}</code></td><td><code>{{ e.record_id or "" }}</code></td></tr>{% endfor %}
</table></details>
{% else %}<p>not captured</p>{% endfor %}</div></div>
{% endfor %}</section>{% endfor %}
<section><h2>Provenance</h2>
<h3>Runs</h3><table><tr><th>run</th><th>started</th><th>command</th><th>software</th><th>operator</th></tr>
{% for r in runs %}<tr><td>{{ r.id }}</td><td>{{ r.started_at }}</td><td>{{ r.command }}</td><td>{{ r.software }}</td><td>{{ r.operator or "—" }}</td></tr>{% endfor %}</table>
<h3>Manifests (hash chain)</h3><table><tr><th>#</th><th>kind</th><th>subject</th><th>sha256</th><th>in this bundle</th></tr>
{% for m in manifests %}<tr><td>{{ m.seq }}</td><td>{{ m.kind }}</td><td>{{ m.subject }}</td><td><code>{{ m.sha256 }}</code></td><td>{{ "rows" if m.exported else "hash only" }}</td></tr>{% endfor %}</table>
<h3>Trusted timestamps (RFC 3161)</h3>
{% if timestamps %}<table><tr><th>time (TSA)</th><th>authority</th><th>covers manifest</th><th>token</th></tr>
{% for t in timestamps %}<tr><td>{{ t.gen_time }}</td><td>{{ t.tsa_name }} ({{ t.tsa_url }})</td><td>{{ t.manifest_seq }}</td><td><code>{{ t.path }}</code></td></tr>{% endfor %}</table>
{% else %}<p>None: these captures were not sealed with a trusted timestamp.</p>{% endif %}
</section></body></html>
"""


#: The report's format: a bundle says which one made its report (``embedarchiveReport`` in
#: ``datapackage.json``; none: 1), and verify makes that one again to compare, so changing
#: the report never makes a bundle already handed over fail. Format 2 isolates every archived
#: value with bidirectional controls (a name ending in a right-to-left override reversed the
#: handle and date after it), clips text to its box (combining marks drew over the page),
#: shows inline only the media types browsers are given as such (``display.player``; an SVG
#: was a broken image, audio had no player) and says that a TSA's address is the archive's
#: record, not part of the token.
REPORT_FORMAT = 2


def _format_2(v1: str) -> str:
    changes = {
        "img,video{max-width:100%;max-height:24rem} .muted{color:#555}\n": (
            "img,video{max-width:100%;max-height:24rem} .muted{color:#555}\n"
            ".box,h2,h3,p,td,th{overflow:clip}\n"
        ),
        """{% for m in c.media %}{% if m.mime.startswith("image/") %}<img src="{{ m.path }}" alt="{{ m.kind }}">
{% elif m.mime.startswith("video/") %}<video controls preload="metadata" src="{{ m.path }}"></video>{% endif %}""": (
            """{% for m in c.media %}{% set shown_as = player(m) %}{% if shown_as == "image" %}<img src="{{ m.path }}" alt="{{ m.kind }}">
{% elif shown_as == "video" %}<video controls preload="metadata" src="{{ m.path }}"></video>
{% elif shown_as == "audio" %}<audio controls preload="metadata" src="{{ m.path }}"></audio>{% endif %}"""
        ),
        "<td>{{ t.tsa_name }} ({{ t.tsa_url }})</td>": (
            "<td>{{ t.tsa_name }} (asked at {{ t.tsa_url }}: the archive's record, not part "
            "of the token)</td>"
        ),
    }
    for old, new in changes.items():
        assert v1.count(old) == 1, old
        v1 = v1.replace(old, new)
    return v1


TEMPLATES = {1: TEMPLATE_V1, 2: _format_2(TEMPLATE_V1)}


def render_report(context: dict[str, Any], report_format: int = REPORT_FORMAT) -> str:
    """The report in ``report_format`` (a key of ``TEMPLATES``)."""
    if report_format == 1:
        env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    else:
        env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True, finalize=isolate)
        env.globals["player"] = player
    return env.from_string(TEMPLATES[report_format]).render(**context)


def capture_view(
    capture: dict[str, Any], media: list[dict[str, Any]], exchanges: list[dict[str, Any]]
) -> dict[str, Any]:
    """A capture row as the report shows it: the post fields parsed from its stored data."""
    try:
        post = json.loads(capture["data"]) if capture.get("data") else None
    except ValueError:
        post = None
    return {**capture, "post": post, "media": media, "exchanges": exchanges}
