"""Generic capture: try a platform's methods in order, then download the media of what answered.

Every attempt is recorded. A platform saying "gone" makes the capture ``unavailable`` (final,
evidence kept); only when no method answered at all is it ``failed`` (retryable). A later
method answering after an earlier one failed transiently is a partial capture (oEmbed has
text, not media): it is kept, but ``failed`` and retryable, so ``retry`` gets the fuller one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from ..errors import (
    EmbedArchiveError,
    FetchError,
    StoreError,
    UnavailableError,
    UnexpectedResponseError,
)
from ..models import Attempt, Capture, CaptureStatus, MediaFile, PostData, Target
from .context import FetchContext
from .http import Recorder, utcnow
from .media import download
from .ytdlp import fetch_in_context


@dataclass(frozen=True)
class MethodResult:
    """A method's answer: the post, plus media a method already downloaded itself (yt-dlp)."""

    post: PostData
    media: tuple[MediaFile, ...] = ()


Method = Callable[[Target, FetchContext, Recorder], MethodResult]


def capture_with_methods(
    target: Target, ctx: FetchContext, methods: Sequence[tuple[str, Method]]
) -> Capture:
    recorder = Recorder()
    started = utcnow()
    attempts: list[Attempt] = []
    unavailable: str | None = None
    last_error: EmbedArchiveError | None = None
    failed_method = ""
    for name, method in methods:
        try:
            result = method(target, ctx, recorder)
        except UnavailableError as err:
            attempts.append(Attempt(name, "unavailable", str(err)))
            unavailable = unavailable or str(err)
            continue
        except StoreError:
            raise  # the archive cannot be written (a full disk): the run stops, not the method
        except EmbedArchiveError as err:
            attempts.append(Attempt(name, "failed", str(err)))
            last_error, failed_method = err, name
            continue
        if result.post.id != target.id:  # never stored as the post that was asked for
            other = UnexpectedResponseError(
                f"{name} answered with another post ({result.post.id[:100]!r})"
            )
            attempts.append(Attempt(name, "failed", str(other)))
            last_error, failed_method = other, name
            continue
        attempts.append(Attempt(name, "ok"))
        capture = _complete(target, ctx, recorder, started, name, result, tuple(attempts))
        if last_error is not None and last_error.retryable and capture.status == "archived":
            partial = f"captured by {name} only; {failed_method} failed: {last_error}"
            return replace(capture, status="failed", error=partial, retryable=True)
        return capture
    status: CaptureStatus = "unavailable" if unavailable else "failed"
    error = unavailable or (str(last_error) if last_error else "no fetch method is enabled")
    return Capture(
        target=target,
        status=status,
        started_at=started,
        finished_at=utcnow(),
        attempts=tuple(attempts),
        exchanges=recorder.exchanges(),
        error=error,
        retryable=status == "failed" and (last_error is None or last_error.retryable),
    )


def download_all(
    post: PostData, ctx: FetchContext, recorder: Recorder
) -> tuple[tuple[MediaFile, ...], tuple[str, ...]]:
    """Download every media item of a post; failures are collected, not raised."""
    files: list[MediaFile] = []
    errors: list[str] = []
    for ref in post.media:
        try:
            if ref.via_ytdlp:
                _, got = fetch_in_context(ref.url, ctx, recorder)
                files.extend(got)
            else:
                files.append(
                    download(
                        ctx.http,
                        ref.url,
                        ctx.files,
                        recorder,
                        kind=ref.kind,
                        progress=ctx.progress,
                        info=ref.info,
                    )
                )
        except (FetchError, UnavailableError) as err:
            errors.append(f"{ref.kind} {ref.url}: {err}")
    return tuple(files), tuple(errors)


def _complete(
    target: Target,
    ctx: FetchContext,
    recorder: Recorder,
    started: str,
    method: str,
    result: MethodResult,
    attempts: tuple[Attempt, ...],
) -> Capture:
    media, errors = download_all(result.post, ctx, recorder)
    media = result.media + media
    status: CaptureStatus = "archived" if not errors else "failed"
    related: tuple[Capture, ...] = ()
    quoted = result.post.quoted
    if quoted is not None and quoted.id in (target.id, result.post.id):
        quoted = None  # a post quoting itself would overwrite its own capture with the quote
    if quoted is not None:
        quoted_recorder = Recorder()
        q_media, q_errors = download_all(quoted, ctx, quoted_recorder)
        related = (
            Capture(
                target=Target(target.platform, quoted.id, quoted.url, target.kind),
                status="archived" if not q_errors else "failed",
                started_at=started,
                finished_at=utcnow(),
                method=f"{method} (quoted in {result.post.id})",
                post=quoted,
                media=q_media,
                media_errors=q_errors,
                attempts=(Attempt(method, "ok", f"embedded in the response for {result.post.id}"),),
                exchanges=quoted_recorder.exchanges(),
                error="; ".join(q_errors) if q_errors else None,
                retryable=bool(q_errors),
            ),
        )
    return Capture(
        target=target,
        status=status,
        started_at=started,
        finished_at=utcnow(),
        method=method,
        post=result.post,
        media=media,
        media_errors=errors,
        attempts=attempts,
        exchanges=recorder.exchanges(),
        error="; ".join(errors) if errors else None,
        retryable=bool(errors),
        related=related,
    )
