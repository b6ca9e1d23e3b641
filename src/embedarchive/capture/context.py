"""What a platform's fetch needs, passed explicitly (no globals)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..settings import Settings
from ..store.files import FileStore
from .http import Http
from .media import NullProgress, ProgressSink


@dataclass
class FetchContext:
    settings: Settings
    http: Http
    files: FileStore
    progress: ProgressSink = field(default_factory=NullProgress)
