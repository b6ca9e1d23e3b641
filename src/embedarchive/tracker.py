"""The pipeline's ``WorkTracker`` over the queue: an article item's targets become items too.

``skip`` is what makes a killed run safe to continue: a target is done once its item says so,
or once a final capture of it was committed after the item started (the run died before it
could say so).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING

from .models import Resolution, Target
from .workers import Claims

if TYPE_CHECKING:
    from .queue import Queue


def target_key(target: Target) -> str:
    return f"{target.platform}:{target.id}"


class QueueTracker:
    """The pipeline's ``WorkTracker`` for one article item: its targets become items too."""

    def __init__(
        self, queue: Queue, batch_id: int, parent: int | None, claims: Claims | None = None
    ) -> None:
        self.queue = queue
        self.batch_id = batch_id
        self.parent = parent
        self.claims = claims
        #: Item ids already added: an item keeps its id, so started/finished need not ask again.
        self._ids: dict[Target, int] = {}

    def _id(self, target: Target) -> int:
        known = self._ids.get(target)
        if known is None:
            self.planned([target])
            known = self._ids[target]
        return known

    def planned(self, targets: Sequence[Target]) -> None:
        """The targets' items, added in one call (one transaction on the writer)."""
        new = [t for t in dict.fromkeys(targets) if t not in self._ids]
        if not new:
            return
        items = [(target_key(t), _payload(t)) for t in new]
        ids = self.queue.add_all(self.batch_id, "target", items, self.parent)
        self._ids.update(zip(new, ids, strict=True))

    def skip(self, target: Target) -> bool:
        row = self.queue.item(self.batch_id, "target", target_key(target))
        if row is None:
            return False
        if row["state"] in ("done", "unavailable"):
            return True
        if row["started_at"] is None:
            return False
        return bool(self.queue.captured_since(target, row["started_at"]))

    def claim(self, target: Target) -> AbstractContextManager[None]:
        return self.claims.claim(target_key(target)) if self.claims else nullcontext()

    def started(self, target: Target) -> None:
        self.queue.start(self._id(target))

    def finished(self, target: Target, status: str, error: str | None, retryable: bool) -> None:
        state = {"archived": "done", "already": "done", "unavailable": "unavailable"}.get(
            status, "failed"
        )
        self.queue.finish(self._id(target), state, error, retryable)

    def unresolved(self, detection_id: int, resolution: Resolution) -> None:
        item = self.queue.add(
            self.batch_id, "detection", str(detection_id), self.parent, {"id": detection_id}
        )
        self.queue.finish(item, "failed", resolution.error, resolution.retryable)


def _payload(target: Target) -> dict[str, str]:
    return {"platform": target.platform, "id": target.id, "url": target.url, "kind": target.kind}


__all__ = ["QueueTracker", "target_key"]
