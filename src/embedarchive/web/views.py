"""The pages: thin async handlers that run one query function and render one template."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datasette.utils.asgi import Response

from . import queries
from .files import FileResponse, locate, locate_record, locate_warc
from .render import render, static_files
from .search import Filters, search
from .security import FILE_CSP, PAGE_CSP

STATIC_TYPES = {"css": "text/css; charset=utf-8", "js": "text/javascript; charset=utf-8"}


@dataclass(frozen=True)
class Archive:
    """The served archive: its Datasette database and the folder its files live in."""

    db: Any
    name: str
    folder: Path

    @classmethod
    def of(cls, datasette: Any) -> Archive:
        name = datasette.plugin_config("embedarchive")["database"]
        db = datasette.get_database(name)
        return cls(db, name, Path(db.path).parent)

    async def read(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await self.db.execute_fn(lambda conn: fn(conn, *args))


def page(template: str, archive: Archive, status: int = 200, **context: Any) -> Response:
    body = render(template, tables=f"/{archive.name}", archive_name=archive.folder, **context)
    return Response.html(
        body,
        status=status,
        headers={"content-security-policy": PAGE_CSP, "cache-control": "no-cache"},
    )


def not_found(archive: Archive, what: str) -> Response:
    return page("error.html", archive, status=404, title="Not found", message=what)


async def home(datasette: Any) -> Response:
    archive = Archive.of(datasette)
    return page("home.html", archive, **await archive.read(queries.home))


async def search_page(datasette: Any, request: Any) -> Response:
    archive = Archive.of(datasette)
    found = await archive.read(search, Filters.from_args(request.args))
    return page("search.html", archive, **found)


async def article(datasette: Any, request: Any) -> Response:
    archive = Archive.of(datasette)
    found = await archive.read(queries.article, int(request.url_vars["id"]))
    if found is None:
        return not_found(archive, "There is no article with this number in the archive.")
    return page("article.html", archive, **found)


async def post(datasette: Any, request: Any) -> Response:
    archive = Archive.of(datasette)
    everything = request.args.get("all") == "1"
    found = await archive.read(
        queries.post, int(request.url_vars["id"]), archive.folder, everything
    )
    if found is None:
        return not_found(archive, "There is no post with this number in the archive.")
    return page("post.html", archive, **found)


async def media(datasette: Any, request: Any) -> Response:
    archive = Archive.of(datasette)
    if request.method not in ("GET", "HEAD"):
        return Response.text("method not allowed", status=405, headers={"allow": "GET, HEAD"})
    found = await archive.read(locate, archive.folder, request.url_vars["sha"])
    if found is None:
        return Response.text("no such file in the archive", status=404)
    return FileResponse(found, request, download=bool(request.args.get("download")))


async def warc(datasette: Any, request: Any) -> Response:
    """A sealed WARC file (``/warc/<sha256>``) or one record of it (``/warc-records/<id>``)."""
    archive = Archive.of(datasette)
    if request.method not in ("GET", "HEAD"):
        return Response.text("method not allowed", status=405, headers={"allow": "GET, HEAD"})
    if "sha" in request.url_vars:
        found = await archive.read(locate_warc, archive.folder, request.url_vars["sha"])
    else:
        found = await archive.read(locate_record, archive.folder, int(request.url_vars["id"]))
    if found is None:
        return Response.text("no such sealed WARC file or record in the archive", status=404)
    return FileResponse(found, request, download=True)


async def capture_raw(datasette: Any, request: Any) -> Response:
    """A capture's raw platform response, as source text (never interpreted)."""
    archive = Archive.of(datasette)
    found = await archive.read(queries.capture_raw, int(request.url_vars["id"]))
    if found is None or found["raw"] is None:
        return Response.text("no raw response stored for this capture", status=404)
    disposition = "attachment" if request.args.get("download") else "inline"
    return Response.text(
        found["raw"],
        headers={
            "content-security-policy": FILE_CSP,
            "content-disposition": f'{disposition}; filename="capture-{found["id"]}-raw.txt"',
        },
    )


async def static(request: Any) -> Response:
    name = request.url_vars["name"]
    files = static_files()
    if name not in files:
        return Response.text("not found", status=404)
    return Response(
        files[name],
        content_type=STATIC_TYPES[name.rsplit(".", 1)[1]],
        headers={"cache-control": "public, max-age=31536000, immutable"},
    )


ROUTES: tuple[tuple[str, Callable[..., Any]], ...] = (
    (r"^/$", home),
    (r"^/search$", search_page),
    (r"^/articles/(?P<id>\d{1,18})$", article),
    (r"^/posts/(?P<id>\d{1,18})$", post),
    (r"^/media/(?P<sha>[0-9a-f]{64})$", media),
    (r"^/warc/(?P<sha>[0-9a-f]{64})$", warc),
    (r"^/warc-records/(?P<id>\d{1,18})$", warc),
    (r"^/captures/(?P<id>\d{1,18})/raw$", capture_raw),
    (r"^/-/embedarchive/(?P<name>[a-z0-9_-]+\.(?:css|js))$", static),
)
