"""Download a result video: streamed to a `.part` file with byte progress, resumed with HTTP Range after a
dropped connection, verified (it decodes, it lasts as long as asked), then renamed into place.

The `.part` file has a stable name so a download interrupted by a crash resumes where it stopped on the
next start. Result URLs need no authorization, so this client never carries the Kling token.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import time
from pathlib import Path
from typing import Callable

import httpx

from ... import __version__
from .. import ffmpeg
from ..cancel import CancelToken
from ..errors import FFmpegError, InputError
from ..media import VideoInfo, probe
from .client import RetryPolicy, sleep_or_cancel
from .errors import KlingDownloadError, KlingResultGoneError
from .reach import is_unsent, unreachable_error

log = logging.getLogger(__name__)

CHUNK = 64 * 1024
DURATION_TOLERANCE = 0.6  # Kling reports "5.1" for a 5 s request; billing shows 5.04
MAX_VERIFY_FAILURES = 3
DOWNLOAD_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")

ByteProgress = Callable[[int, "int | None"], None]


def part_path_for(dest: Path) -> Path:
    return dest.with_name(f".{dest.name}.part")


def verify_video(path: Path, expected_duration: float | None,
                 tolerance: float = DURATION_TOLERANCE) -> VideoInfo:
    """The file must probe, decode to the end without errors and last about `expected_duration` s."""
    try:
        info = probe(path)
    except InputError as exc:
        raise KlingDownloadError(f"the downloaded video is damaged: {exc}") from None
    if expected_duration is not None and abs(info.duration - expected_duration) > tolerance:
        raise KlingDownloadError(
            f"the downloaded video lasts {info.duration:.2f} s, expected about {expected_duration:.1f} s "
            f"(incomplete file?)"
        )
    try:
        ffmpeg.run(["-xerror", "-i", str(path), "-map", "0:v:0", "-f", "null", "-"], what="decoding the video")
    except FFmpegError as exc:
        raise KlingDownloadError(f"the downloaded video does not decode cleanly: {exc}") from None
    return info


def _open_stream(http: httpx.Client, url: str, offset: int):
    headers = {"Range": f"bytes={offset}-"} if offset > 0 else {}
    return http.stream("GET", url, headers=headers)


def _fetch(http: httpx.Client, url: str, part: Path, on_progress: ByteProgress | None,
           cancel: CancelToken | None) -> None:
    """One attempt: append from the current size of `part` (Range) or start over. Raises on a drop."""
    offset = part.stat().st_size if part.exists() else 0
    with _open_stream(http, url, offset) as resp:
        status = resp.status_code
        if status in (401, 403, 404, 410):
            raise KlingResultGoneError(
                f"the result video is no longer available (HTTP {status}); Kling deletes results after 30 days",
                http_status=status,
            )
        if status == 416 and offset > 0:
            match = re.search(r"/(\d+)", resp.headers.get("content-range", ""))
            if match and int(match.group(1)) == offset:
                return  # already complete
            part.unlink(missing_ok=True)
            raise KlingDownloadError("the partial download did not match the server's file; starting over")
        if status >= 500 or status == 429:
            raise KlingDownloadError(f"the video server answered HTTP {status}", http_status=status)
        if status not in (200, 206):
            raise KlingResultGoneError(f"unexpected answer downloading the video (HTTP {status})", http_status=status)
        mode = "ab"
        total: int | None = None
        if status == 206:
            match = _CONTENT_RANGE.match(resp.headers.get("content-range", ""))
            if not match or int(match.group(1)) != offset:
                part.unlink(missing_ok=True)
                raise KlingDownloadError("the server resumed at the wrong byte; starting over")
            total = int(match.group(3)) if match.group(3) != "*" else None
        else:
            offset, mode = 0, "wb"
            length = resp.headers.get("content-length")
            total = int(length) if length and length.isdigit() else None
        done = offset
        if on_progress:
            on_progress(done, total)
        with part.open(mode) as fh:
            # No chunk size: each piece is written as it arrives, so a drop loses nothing received
            # (a 64 KiB buffer would be thrown away, and a server that drops sooner would stall us).
            for chunk in resp.iter_bytes():
                if cancel is not None:
                    cancel.raise_if_cancelled()
                fh.write(chunk)
                done += len(chunk)
                if on_progress:
                    on_progress(done, total)
            fh.flush()
            os.fsync(fh.fileno())
        if total is not None and done < total:
            raise KlingDownloadError(f"the connection ended after {done} of {total} bytes")


def download_video(url: str, dest: Path, *, expected_duration: float | None = None,
                   on_progress: ByteProgress | None = None, cancel: CancelToken | None = None,
                   retry: RetryPolicy | None = None, http: httpx.Client | None = None,
                   part: Path | None = None, deadline_seconds: float | None = None) -> VideoInfo:
    """Fetch `url` into `dest` atomically; resume with Range after drops; re-fetch if verification fails.

    `deadline_seconds` bounds the whole download phase, retries included."""
    deadline = None if deadline_seconds is None else time.monotonic() + deadline_seconds
    dest = Path(dest)
    part = part or part_path_for(dest)
    retry = retry or RetryPolicy()
    own_http = http is None
    http = http or httpx.Client(timeout=DOWNLOAD_TIMEOUT, follow_redirects=True,
                                headers={"User-Agent": f"navtalk-desktop/{__version__}"})
    drops = 0
    bad_files = 0
    try:
        while True:
            if cancel is not None:
                cancel.raise_if_cancelled()
            before = part.stat().st_size if part.exists() else 0
            try:
                _fetch(http, url, part, on_progress, cancel)
            except KlingResultGoneError:
                raise
            except (httpx.TransportError, KlingDownloadError) as exc:
                after = part.stat().st_size if part.exists() else 0
                if after - before >= CHUNK:
                    drops = 0  # the file grows: a flaky line, not a dead one, so keep going
                drops += 1
                delay = retry.delay(drops - 1)
                late = deadline is not None and time.monotonic() + delay > deadline
                unreachable = (unreachable_error(exc, url, DOWNLOAD_TIMEOUT.connect)
                               if isinstance(exc, httpx.HTTPError) and is_unsent(exc) else None)
                if drops >= retry.attempts or late or (unreachable is not None and not unreachable.retryable):
                    if isinstance(exc, KlingDownloadError):
                        reason = str(exc)
                    elif unreachable is not None:
                        reason = unreachable.plain_message  # the host and the likely cause, not "ConnectError"
                    else:
                        reason = f"the connection failed ({type(exc).__name__})"
                    raise KlingDownloadError(f"downloading the video failed {drops} times: {reason}") from None
                log.info("download interrupted (%s) at byte %d; resuming from there", type(exc).__name__, after)
                sleep_or_cancel(delay, cancel)
                continue
            try:
                info = verify_video(part, expected_duration)
            except KlingDownloadError:
                bad_files += 1
                part.unlink(missing_ok=True)
                if bad_files >= MAX_VERIFY_FAILURES:
                    raise
                log.info("downloaded video failed verification; downloading it again")
                continue
            os.replace(part, dest)
            return dataclasses.replace(info, path=str(dest))
    finally:
        if own_http:
            http.close()
