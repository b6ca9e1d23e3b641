"""Concurrent batches with one writer: workers fetch, the thread that opened the store writes.

A worker runs the ordinary pipeline (``archive_article``) against :class:`Serialized`
stand-ins for the store and the queue: each method call is handed to the writer thread,
which runs it while it waits for the workers (:meth:`Writer.serve`). The SQLite connection,
the WARC files and the manifests are therefore only ever touched by one thread, so
concurrency cannot cause ``database is locked``, and a store call keeps its own transaction.

Two workers meeting the same post claim it (:class:`Claims`): the second waits for the first
capture and then finds the post archived, exactly as a one-at-a-time run would.
"""

from __future__ import annotations

import queue as _queue
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class WriterClosed(RuntimeError):
    """The writer stopped (the batch failed); a waiting worker must give up."""


class Writer:
    """Runs calls on its owner thread, on behalf of any thread."""

    def __init__(self) -> None:
        self._owner = threading.get_ident()
        self._calls: _queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]] | None] = (
            _queue.SimpleQueue()
        )
        self._closed = False
        self._lock = threading.Lock()

    def call(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        if threading.get_ident() == self._owner:
            return fn(*args, **kwargs)
        done: Future[R] = Future()
        with self._lock:
            if self._closed:
                raise WriterClosed("the batch stopped")
            self._calls.put((done, lambda: fn(*args, **kwargs)))
        return done.result()

    def _run_pending(self, block: bool) -> None:
        try:
            call = self._calls.get(block=block)
        except _queue.Empty:
            return
        if call is None:
            return
        done, fn = call
        try:
            done.set_result(fn())
        except BaseException as err:
            done.set_exception(err)

    def serve(self, futures: Iterable[Future[T]]) -> Iterator[Future[T]]:
        """Run the workers' calls until every future is done; yields each as it completes."""
        waiting = set(futures)
        finished: _queue.SimpleQueue[Future[T]] = _queue.SimpleQueue()

        def wake(future: Future[T]) -> None:
            finished.put(future)
            self._calls.put(None)

        for future in waiting:
            future.add_done_callback(wake)
        try:
            while waiting:
                self._run_pending(block=True)
                while True:
                    try:
                        future = finished.get_nowait()
                    except _queue.Empty:
                        break
                    waiting.discard(future)
                    yield future
        finally:
            self.close()

    def close(self) -> None:
        """Fail every call still queued or yet to come (their workers raise ``WriterClosed``)."""
        with self._lock:
            self._closed = True
        while True:
            try:
                call = self._calls.get_nowait()
            except _queue.Empty:
                return
            if call is not None:
                call[0].set_exception(WriterClosed("the batch stopped"))


class Serialized(Generic[T]):
    """``obj`` as seen from a worker: every method call runs on the writer thread."""

    def __init__(self, obj: T, writer: Writer) -> None:
        self._obj = obj
        self._writer = writer

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._obj, name)
        if not callable(value):
            return value
        return lambda *args, **kwargs: self._writer.call(value, *args, **kwargs)


class Claims:
    """One worker at a time per key (a post being captured)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    @contextmanager
    def claim(self, key: str) -> Iterator[None]:
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            yield


def run_concurrently(
    jobs: int,
    work: Callable[[Any], T],
    items: Iterable[Any],
    writer: Writer,
    on_done: Callable[[T], None],
) -> list[T]:
    """``work(item)`` for every item on ``jobs`` threads; results in completion order.

    ``on_done`` runs on the writer thread. A worker's exception (a bug) stops the batch and
    is raised here after the other workers have given up.
    """
    results: list[T] = []
    pool = ThreadPoolExecutor(max_workers=max(jobs, 1), thread_name_prefix="embedarchive")
    try:
        futures = [pool.submit(work, item) for item in items]
        for future in writer.serve(futures):
            result = future.result()
            results.append(result)
            on_done(result)
    finally:
        writer.close()
        pool.shutdown(wait=True, cancel_futures=True)
    return results


__all__ = ["Claims", "Serialized", "Writer", "WriterClosed", "run_concurrently"]
