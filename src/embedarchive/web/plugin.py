"""embedarchive's Datasette plugin: its pages and the security headers on every response.

Three hooks, each with the arguments Datasette 1.0 passes too: ``register_routes(datasette)``,
``asgi_wrapper(datasette)`` and ``handle_exception(datasette, request, exception)``. Each does
nothing unless the instance carries the plugin's configuration (``{"database": <name>}``, set
by ``app.make_datasette``), so registering the plugin never changes another Datasette in the
same process.
"""

from __future__ import annotations

import inspect
import sys
import traceback
from collections.abc import Generator
from http import HTTPStatus
from typing import Any

from datasette import hookimpl
from datasette.utils.asgi import Base400, Response
from datasette.views.base import DatasetteError

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
    """Every error answered by the plugin. Datasette's own handler prints each exception with
    its local variables, on the event loop: about 170 lines per 404, and for a server error
    on a large page (a post with thousands of embeds) minutes of pretty-printing its context,
    gigabytes of memory, and every other request waiting. A 4xx (a mistyped link, a robot's
    ``/robots.txt``) is answered quietly; a server error prints its traceback, without locals."""
    outcome = yield
    if not _active(datasette):
        return
    for pending in outcome.get_result():
        if inspect.iscoroutine(pending):
            pending.close()  # Datasette's handler, never to be awaited
    if isinstance(exception, Base400):
        status, message = exception.status, str(exception.args[0]) if exception.args else ""
    elif isinstance(exception, DatasetteError):  # a query the user typed, a missing table
        status, message = exception.status, str(exception.message)
    else:
        status, message = 500, "The page could not be made; the error is in the server's log."
        traceback.print_exception(exception, file=sys.stderr)
    outcome.force_result([_error_response(datasette, request, status, message)])


def _error_response(datasette: Any, request: Any, status: int, message: str) -> Response:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:  # a status Python does not name
        phrase = "Error"
    message = message or phrase
    if request.path.endswith(".json"):
        return Response.json({"ok": False, "error": message, "status": status}, status=status)
    title = phrase.capitalize()
    return page("error.html", Archive.of(datasette), status=status, title=title, message=message)
