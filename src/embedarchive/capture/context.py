"""What a platform's fetch needs, passed explicitly (no globals)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

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
    #: Runs independent calls (an article's targets) and returns their results in order: one
    #: after another, or shared out among a concurrent batch's threads (``workers.Crew.map``).
    share: Callable[[Sequence[Callable[[], Any]]], list[Any]] = field(
        default=lambda calls: [call() for call in calls]
    )
