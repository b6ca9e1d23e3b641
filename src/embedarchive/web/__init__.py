"""Browsing: ``embedarchive serve``, a read-only web UI over an archive, built on Datasette.

Nothing else in embedarchive depends on this package. ``app.make_datasette`` builds the
Datasette instance with embedarchive's plugin (``plugin.py``: the pages and the security
headers); ``queries.py`` and ``search.py`` read the archive, ``compare.py`` sets what an article
showed beside what was captured, ``files.py`` serves media by sha256 with Range support, and
``render.py`` turns it all into escaped HTML from ``pages/`` and ``static/``.
"""

from __future__ import annotations

from .app import make_datasette, serve

__all__ = ["make_datasette", "serve"]
