"""The Datasette instance behind ``embedarchive serve``, and the server loop.

The plugin is registered in-process (``pm.register``) rather than through a ``datasette``
entry point: an entry point would load it into every Datasette in the environment, and its
pages take over ``/``. It also only acts where its plugin configuration is present (see
``plugin.py``), so any other Datasette in the same process stays untouched.

The archive is opened read-only (``mode=ro``, Datasette's "mutable" file mode), not
``immutable=1``: an archive is a WAL database that ``embedarchive archive`` may be writing to
at the same time, and an immutable reader would ignore the WAL and could read a half-written
page. Before serving, an archive made by an older release gets its pending migrations (the
search index); that is the only write ``serve`` ever makes. On read-only media (nothing can
write it there, and SQLite could not make the ``-shm`` file a WAL reader needs) the archive is
opened as immutable.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

from datasette.app import Datasette
from datasette.plugins import pm

from ..errors import InputError
from ..store.records import Store, on_read_only_media
from . import plugin
from .security import is_loopback_name, loopback_only


def prepare(db_path: Path) -> None:
    """Refuse a missing or lost archive; bring an older one up to date (adds the search
    index), unless it is on read-only media."""
    Store.open(db_path, create=False).close()


def make_datasette(db_path: Path) -> Datasette:
    """Datasette over ``db_path`` (read-only) with embedarchive's pages, for serving or tests."""
    if not pm.is_registered(plugin):
        pm.register(plugin, name=plugin.NAME)
    name = db_path.stem
    # On read-only media SQLite cannot make the -shm file a WAL reader needs; nothing can
    # write the file there either, so Datasette may open it as immutable.
    where = "immutables" if on_read_only_media(db_path) else "files"
    return Datasette(
        **{where: [str(db_path)]},
        metadata={
            "title": "embedarchive",
            "plugins": {plugin.NAME: {"database": name}},
            "databases": {name: {"title": f"Archive tables ({db_path.parent.name})"}},
        },
        # max_csv_mb 0: a streamed CSV export of a table is whole (Datasette's default cut
        # one at 100 MB: 84,315 of 144,214 captures, with a line saying so at its end).
        settings={"sql_time_limit_ms": 3000, "suggest_facets": False, "max_csv_mb": 0},
    )


def serve(db_path: Path, host: str, port: int, announce: Callable[[str], None] = print) -> None:
    """Serve until interrupted; ``announce`` receives the address once listening."""
    import uvicorn

    prepare(db_path)
    datasette = make_datasette(db_path)
    try:
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as err:
        raise InputError(f"cannot listen on {host}:{port}: {err.strerror or err}") from None
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    announce(f"Serving {db_path.parent} read-only at http://{shown}:{bound}/ (Ctrl-C stops)")
    if not is_loopback_name(host):
        announce(f"Warning: anyone who can reach {host} can browse this archive.")
    app = datasette.app()
    config = uvicorn.Config(
        loopback_only(app) if is_loopback_name(host) else app, log_level="warning", lifespan="off"
    )
    uvicorn.Server(config).run(sockets=[sock])
