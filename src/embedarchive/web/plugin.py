"""embedarchive's Datasette plugin: its pages and the security headers on every response.

Only two hooks, both with the arguments Datasette 1.0 passes too: ``register_routes(datasette)``
and ``asgi_wrapper(datasette)``. Both do nothing unless the instance carries the plugin's
configuration (``{"database": <name>}``, set by ``app.make_datasette``), so registering the
plugin never changes another Datasette in the same process.
"""

from __future__ import annotations

from typing import Any

from datasette import hookimpl

from .security import App, datasette_csp, with_headers
from .views import ROUTES

NAME = "embedarchive"


def _active(datasette: Any) -> bool:
    return datasette.plugin_config(NAME) is not None


@hookimpl
def register_routes(datasette: Any) -> list[tuple[str, Any]]:
    return list(ROUTES) if _active(datasette) else []


@hookimpl
def asgi_wrapper(datasette: Any) -> Any:
    if not _active(datasette):
        return None
    csp = datasette_csp()

    def wrap(app: App) -> App:
        return with_headers(app, csp)

    return wrap
