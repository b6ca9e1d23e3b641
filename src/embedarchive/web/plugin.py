"""embedarchive's Datasette plugin: its pages and the security headers on every response.

Three hooks, each with the arguments Datasette 1.0 passes too: ``register_routes(datasette)``,
``asgi_wrapper(datasette)`` and ``handle_exception(datasette, request, exception)``. Each does
nothing unless the instance carries the plugin's configuration (``{"database": <name>}``, set
by ``app.make_datasette``), so registering the plugin never changes another Datasette in the
same process.
"""

from __future__ import annotations

import inspect
from collections.abc import Generator
from http import HTTPStatus
from typing import Any

from datasette import hookimpl
from datasette.utils.asgi import Base400, Response

from .security import App, datasette_csp, same_origin_only, with_headers
from .views import ROUTES, Archive, page

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
    database = "/" + datasette.plugin_config(NAME)["database"]

    def wrap(app: App) -> App:
        return with_headers(same_origin_only(app, database), csp)

    return wrap


@hookimpl(hookwrapper=True)
def handle_exception(datasette: Any, request: Any, exception: Exception) -> Generator[None, Any]:
    """A 4xx (a mistyped link, a robot's ``/robots.txt``) answered quietly: Datasette's own
    handler prints every exception with its local variables to the terminal ``serve`` runs in,
    about 170 lines per 404. Server errors are left to it, traceback and all."""
    outcome = yield
    if not _active(datasette) or not isinstance(exception, Base400):
        return
    for pending in outcome.get_result():
        if inspect.iscoroutine(pending):
            pending.close()  # Datasette's handler, never to be awaited
    outcome.force_result([_error_response(datasette, request, exception)])


def _error_response(datasette: Any, request: Any, exception: Base400) -> Response:
    status = exception.status
    message = str(exception.args[0]) if exception.args else HTTPStatus(status).phrase
    if request.path.endswith(".json"):
        return Response.json({"ok": False, "error": message, "status": status}, status=status)
    title = HTTPStatus(status).phrase.capitalize()
    return page("error.html", Archive.of(datasette), status=status, title=title, message=message)
