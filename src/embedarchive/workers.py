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

import functools
import queue as _queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, wait
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
            result = fn()
        except BaseException as err:
            done.set_exception(err)
            if isinstance(err, KeyboardInterrupt):
                raise
            return
        # Ctrl-C can land inside set_result, after the future is finished: it must reach the
        # batch as an interruption, not as a second outcome of the same call.
        done.set_result(result)

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


class Crew:
    """A batch's ``jobs`` threads. Each starts the next item when it has nothing else to do,
    and an item can hand out sub-tasks (an article its targets: :meth:`map`), which any idle
    thread takes first. So at most ``jobs`` things run at once, and the last articles of a
    batch do not leave threads idle while they capture their posts one after another."""

    def __init__(self, jobs: int) -> None:
        self.jobs = max(jobs, 1)
        self._cond = threading.Condition()
        self._tasks: deque[tuple[Future[Any], Callable[[], Any]]] = deque()
        self._members: set[int] = set()
        self._busy_items = 0
        self._stopped = False
        self._threads: list[threading.Thread] = []

    def map(self, calls: Sequence[Callable[[], R]]) -> list[R]:
        """Run every call, helped by idle crew threads; results in order, an error raised.
        Outside the crew's threads (or for one call) simply one after another."""
        if len(calls) <= 1 or threading.get_ident() not in self._members:
            return [call() for call in calls]
        futures: list[Future[R]] = [Future() for _ in calls]
        with self._cond:
            if self._stopped:
                raise WriterClosed("the batch stopped")
            self._tasks.extend(zip(futures, calls, strict=True))
            self._cond.notify_all()
        for future in futures:
            while not future.done():
                task = self._take()
                if task is None:
                    wait([future])  # another thread is running it
                else:
                    _run(*task)
        return [future.result() for future in futures]

    def _take(self) -> tuple[Future[Any], Callable[[], Any]] | None:
        with self._cond:
            return self._tasks.popleft() if self._tasks else None

    def run(self, work: Callable[[Any], T], items: Iterable[Any]) -> list[Future[T]]:
        """Start the threads on ``items``; one future per item."""
        pairs: list[tuple[Future[T], Any]] = [(Future(), item) for item in items]
        queue = iter(pairs)
        lock = threading.Lock()

        def loop() -> None:
            with self._cond:
                self._members.add(threading.get_ident())
            while True:
                task = self._take()
                if task is not None:
                    _run(*task)
                    continue
                with lock:
                    pair = None if self._stopped else next(queue, None)
                if pair is None:
                    with self._cond:
                        while not (self._tasks or self._stopped or not self._busy_items):
                            self._cond.wait()
                        if not self._tasks:
                            return
                    continue
                future, item = pair
                if not future.set_running_or_notify_cancel():
                    continue
                with self._cond:
                    self._busy_items += 1
                try:
                    _run(future, functools.partial(work, item))
                finally:
                    with self._cond:
                        self._busy_items -= 1
                        self._cond.notify_all()

        self._threads = [
            threading.Thread(target=loop, name=f"embedarchive-{i}", daemon=True)
            for i in range(self.jobs if pairs else 0)
        ]
        for thread in self._threads:
            thread.start()
        return [future for future, _ in pairs]

    def stop(self, wait: bool = True) -> None:
        """Start nothing more, fail queued sub-tasks, and wait for the threads to end (unless
        ``wait`` is False: they are daemon threads, gone when the process ends)."""
        with self._cond:
            self._stopped = True
            tasks, self._tasks = list(self._tasks), deque()
            self._cond.notify_all()
        for future, _ in tasks:
            if future.set_running_or_notify_cancel():
                future.set_exception(WriterClosed("the batch stopped"))
        for thread in self._threads if wait else ():
            thread.join()


def _run(future: Future[Any], call: Callable[[], Any]) -> None:
    try:
        future.set_result(call())
    except BaseException as err:
        future.set_exception(err)


def run_concurrently(
    jobs: int,
    work: Callable[[Any], T],
    items: Iterable[Any],
    writer: Writer,
    on_done: Callable[[T], None],
    crew: Crew | None = None,
) -> list[T]:
    """``work(item)`` for every item on ``jobs`` threads (a :class:`Crew`); results in
    completion order.

    ``on_done`` runs on the writer thread. A worker's exception (a bug) stops the batch and
    is raised here after the other workers have given up.
    """
    results: list[T] = []
    crew = crew or Crew(jobs)
    wait = True
    try:
        for future in writer.serve(crew.run(work, items)):
            result = future.result()
            results.append(result)
            on_done(result)
    except KeyboardInterrupt:
        # Ctrl-C: the fetches in flight (a stalled server can hold one for minutes) are let go,
        # not waited for. The threads only write through the writer, closed here; what they
        # leave on disk is what a killed run leaves, and the next run discards it.
        wait = False
        raise
    finally:
        writer.close()
        crew.stop(wait=wait)
    return results


__all__ = ["Claims", "Crew", "Serialized", "Writer", "WriterClosed", "run_concurrently"]
