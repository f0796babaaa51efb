"""Generation orchestration: portrait in, verified video out, every step recorded before it happens.

Order matters for durability: the job row (with external_task_id) is written before the create request,
the task_id the moment it arrives, then each status change, the URL, the download and any error. So a
crash at any point is recoverable by `resume()`: an answered create is polled, a lost create answer is
found again by external_task_id, a half download continues with HTTP Range. Plain functions with
`on_progress` callbacks and a CancelToken, no printing: the CLI and the Qt worker both drive it.
"""

from __future__ import annotations

import base64
import dataclasses
import filecmp
import hashlib
import logging
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..atomic import atomic_output, check_output_path, ensure_not_source
from ..cancel import CancelToken
from ..errors import CancelledError, InputError
from ..jobs import CREATING, DONE, DOWNLOADING, FAILED, POLLING, Job, JobStore
from ..media import VideoInfo, probe
from .capabilities import (DEFAULT_DURATION, DEFAULT_MODE, DEFAULT_MODEL, TYPICAL_GENERATION_SECONDS,
                           check_request, normalize_duration)
from .client import CreateTaskRequest, KlingClient, PollPolicy, RetryPolicy, TaskInfo
from .download import download_video
from .errors import KlingError, KlingParameterError, KlingResultGoneError, KlingTaskFailed, KlingTaskLostError
from .preflight import PreparedImage, prepare_image
from .prompts import DEFAULT_IDLE_PROMPT, DEFAULT_NEGATIVE_PROMPT

log = logging.getLogger(__name__)

#: Share of the overall progress bar given to the download (the rest is generation time).
DOWNLOAD_SHARE = 0.1


@dataclass
class GenerationRequest:
    image: Path
    output: Path | None = None
    model: str = DEFAULT_MODEL
    mode: str = DEFAULT_MODE
    duration: str = DEFAULT_DURATION
    prompt: str = DEFAULT_IDLE_PROMPT
    negative_prompt: str = DEFAULT_NEGATIVE_PROMPT
    cfg_scale: float | None = None
    loop_tail: bool = False
    fix: bool = False


@dataclass
class GenerationProgress:
    """One progress report: what stage, Kling's status, time so far against the typical generation time."""

    stage: str  # preflight, creating, submitted, processing, downloading, verifying, done
    job_id: int | None = None
    task_id: str | None = None
    task_status: str | None = None
    elapsed: float = 0.0
    typical_total: float = TYPICAL_GENERATION_SECONDS
    bytes_done: int = 0
    bytes_total: int | None = None
    message: str = ""

    @property
    def remaining_estimate(self) -> float:
        return max(0.0, self.typical_total - self.elapsed)

    @property
    def fraction(self) -> float:
        """Overall 0..1: generation time against the typical time (capped), then download bytes."""
        if self.stage == "done":
            return 1.0
        if self.stage in ("downloading", "verifying"):
            part = (self.bytes_done / self.bytes_total) if self.bytes_total else 0.0
            return 1.0 - DOWNLOAD_SHARE + DOWNLOAD_SHARE * min(1.0, part)
        if self.stage in ("submitted", "processing"):
            return (1.0 - DOWNLOAD_SHARE) * min(0.95, self.elapsed / self.typical_total)
        return 0.0


@dataclass
class GenerationResult:
    job: Job
    video: Path  # the requested output, or the kept copy in the job folder
    info: VideoInfo
    image_changes: list[str] = field(default_factory=list)
    resumed: bool = False


ProgressCallback = Callable[[GenerationProgress], None]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class KlingGenerator:
    def __init__(self, client: KlingClient, store: JobStore, *, poll: PollPolicy | None = None,
                 download_retry: RetryPolicy | None = None) -> None:
        self.client = client
        self.store = store
        self.poll = poll or PollPolicy()
        self.download_retry = download_retry or RetryPolicy(attempts=8, initial=0.5, max_delay=10.0)

    # -- entry points --------------------------------------------------------------------------------
    def prepare(self, request: GenerationRequest) -> PreparedImage:
        """All local checks, before any job or request exists: image rules, capability map, prompts."""
        if request.output is not None:
            ensure_not_source(request.output, request.image)
        prepared = prepare_image(request.image, fix=request.fix)
        duration = normalize_duration(request.duration)
        check_request(request.model, request.mode, duration, loop_tail=request.loop_tail)
        self._task_request(request, prepared.base64(), None).to_body()  # prompt length, cfg range
        if request.output is not None:
            check_output_path(Path(request.output))
        return prepared

    def generate(self, request: GenerationRequest, *, on_progress: ProgressCallback | None = None,
                 cancel: CancelToken | None = None, reuse_unfinished: bool = True,
                 prepared: PreparedImage | None = None) -> GenerationResult:
        """`prepared` (from `prepare(request)`) skips repeating the local checks."""
        emit = on_progress or (lambda p: None)
        emit(GenerationProgress("preflight", message="checking the image"))
        prepared = prepared or self.prepare(request)
        duration = normalize_duration(request.duration)
        output = str(Path(request.output).resolve()) if request.output else None
        identity = dict(image_sha256=_sha256(prepared.data), model=request.model, mode=request.mode,
                        duration=duration, prompt=request.prompt or "", negative_prompt=request.negative_prompt or "",
                        cfg_scale=request.cfg_scale, loop_tail=request.loop_tail,
                        base_url=self.client.base_url, output_path=output)
        if reuse_unfinished:
            existing = self.store.find_unfinished_like(**identity)
            if existing is not None:
                log.info("resuming unfinished job %s instead of creating a new task", existing.id)
                result = self.resume(existing.id, on_progress=on_progress, cancel=cancel)
                result.image_changes = list(prepared.changes)
                return result
        external_id = f"navtalk-{uuid.uuid4().hex}"
        job_dir = self.store.jobs_dir() / external_id
        job_dir.mkdir(parents=True, exist_ok=True)
        upload = job_dir / f"upload{prepared.suffix}"
        with atomic_output(upload) as tmp:
            tmp.write_bytes(prepared.data)
        job = self.store.create(external_task_id=external_id, source_image=str(Path(request.image).resolve()),
                                upload_image=str(upload), image_changes="\n".join(prepared.changes), **identity)
        log.info("job %s written (external_task_id %s) before the create request", job.id, external_id)
        result = self._run(job, emit, cancel)
        result.image_changes = list(prepared.changes)
        return result

    def resume(self, job_id: int, *, on_progress: ProgressCallback | None = None,
               cancel: CancelToken | None = None) -> GenerationResult:
        job = self.store.get(job_id)
        if job.stage == FAILED:
            reason = job.error_message or job.task_status_msg
            raise KlingTaskFailed(f"job {job.id} failed and cannot be resumed: {reason}")
        if job.base_url != self.client.base_url:
            raise InputError(f"job {job.id} was submitted to {job.base_url}, not {self.client.base_url}")
        result = self._run(job, on_progress or (lambda p: None), cancel)
        result.resumed = True
        return result

    # -- the pipeline ----------------------------------------------------------------------------------
    def _task_request(self, request_or_job, image_b64: str, external_id: str | None) -> CreateTaskRequest:
        r = request_or_job
        return CreateTaskRequest(image_base64=image_b64, model=r.model, mode=r.mode,
                                 duration=normalize_duration(r.duration), prompt=r.prompt,
                                 negative_prompt=r.negative_prompt, cfg_scale=r.cfg_scale,
                                 external_task_id=external_id, loop_tail=r.loop_tail)

    def _run(self, job: Job, emit: ProgressCallback, cancel: CancelToken | None) -> GenerationResult:
        last: list[GenerationProgress] = [GenerationProgress("creating", job_id=job.id)]
        report = emit

        def emit(progress: GenerationProgress) -> None:
            last[0] = progress
            report(progress)

        def notice(text: str) -> None:  # a backoff notice from the client: the last progress, with the why
            report(dataclasses.replace(last[0], message=text))

        self.client.on_notice = notice
        try:
            if job.stage == CREATING:
                job = self._create(job, emit, cancel)
            if job.stage == POLLING:
                job = self._poll(job, emit, cancel)
            if job.stage == DOWNLOADING:
                job = self._download(job, emit, cancel)
            if job.stage == DONE:
                return self._finish(job, emit)
            raise KlingError(f"job {job.id} is in an unknown stage {job.stage!r}")
        except CancelledError as exc:
            exc.job_id = job.id
            self.store.update(job.id, error_kind="CancelledError",
                              error_message="cancelled; the job can be resumed")
            raise
        except KlingError as exc:
            exc.job_id = job.id  # lets the caller say "resume job N"
            current = self.store.get(job.id)
            final = isinstance(exc, (KlingTaskFailed, KlingResultGoneError)) or (
                current.stage == CREATING and not exc.retryable and current.task_id is None)
            self.store.update(job.id, error_kind=type(exc).__name__, error_message=str(exc),
                              **({"stage": FAILED} if final else {}))
            raise
        finally:
            self.client.on_notice = None

    def _create(self, job: Job, emit: ProgressCallback, cancel: CancelToken | None) -> Job:
        """Submit the task within one deadline (the polling timeout), however many retries it takes."""
        emit(GenerationProgress("creating", job_id=job.id, message="submitting the task"))
        with self.client.phase(self.poll.timeout):
            return self._create_in_phase(job, cancel)

    def _create_in_phase(self, job: Job, cancel: CancelToken | None) -> Job:
        if job.task_id is None and job.create_attempts > 0:
            # A create was sent before and its answer never arrived: the task may exist.
            found = self.client.find_by_external_id(job.external_task_id, cancel=cancel)
            if found is not None:
                log.info("job %s: found the task created earlier (%s)", job.id, found.task_id)
                return self._record_task(job, found)
        upload = Path(job.upload_image)
        if not upload.is_file():
            self.store.update(job.id, stage=FAILED, error_kind="InputError",
                              error_message="the prepared image of this job is missing")
            raise InputError(f"job {job.id}: its prepared image {upload} is missing; run generate again")
        request = self._task_request(job, base64.b64encode(upload.read_bytes()).decode("ascii"),
                                     job.external_task_id)
        job = self.store.update(job.id, create_attempts=job.create_attempts + 1)
        info = self.client.create_task(request, cancel=cancel)
        return self._record_task(job, info)

    def _record_task(self, job: Job, info: TaskInfo) -> Job:
        job = self.store.update(job.id, task_id=info.task_id, task_status=info.status,
                                task_status_msg=info.status_msg, stage=POLLING, error_kind=None, error_message=None)
        log.info("job %s: task %s is %s", job.id, info.task_id, info.status)
        return job

    def _poll(self, job: Job, emit: ProgressCallback, cancel: CancelToken | None) -> Job:
        last = {"status": job.task_status}

        def on_update(info: TaskInfo, elapsed: float) -> None:
            if info.status != last["status"]:
                last["status"] = info.status
                self.store.update(job.id, task_status=info.status, task_status_msg=info.status_msg)
                log.info("job %s: task %s is %s", job.id, info.task_id, info.status)
            if not info.finished:
                emit(GenerationProgress(info.status if info.status == "submitted" else "processing",
                                        job_id=job.id, task_id=info.task_id, task_status=info.status,
                                        elapsed=elapsed))

        try:
            info = self.client.wait_for_task(job.task_id, poll=self.poll, on_update=on_update, cancel=cancel,
                                             started_at=job.created_at)
        except KlingParameterError as err:
            if err.code != 1203 and err.http_status != 404:
                raise
            # The server does not know the task any more: no amount of polling can finish it.
            reason = (f"Kling no longer knows task {job.task_id} ({err}); the job is lost and cannot be "
                      f"resumed, so generate again")
            raise KlingTaskLostError(reason) from None  # _run records it as failed
        if info.status == "failed":
            reason = info.status_msg or "no reason given"
            self.store.update(job.id, stage=FAILED, task_status="failed", task_status_msg=info.status_msg)
            hint = ""
            if "pixel" in reason.lower():
                hint = " (the image is too small or has an unusual shape; use at least 300 px per side)"
            raise KlingTaskFailed(f"Kling could not generate the video: {reason}{hint}")
        if not info.video_url:
            raise KlingError(f"task {info.task_id} succeeded but Kling sent no video URL")
        return self.store.update(job.id, stage=DOWNLOADING, task_status=info.status, video_url=info.video_url,
                                 video_duration=info.video_duration,
                                 local_path=str(Path(job.upload_image).parent / "result.mp4"))

    def _download(self, job: Job, emit: ProgressCallback, cancel: CancelToken | None) -> Job:
        dest = Path(job.local_path)
        started = job.created_at
        if dest.is_file():  # downloaded and verified earlier; only the final step was missing
            return self.store.update(job.id, stage=DONE)
        last_saved = [0.0]
        seen = [0, None]

        def on_bytes(done: int, total: int | None) -> None:
            seen[0], seen[1] = done, total
            emit(GenerationProgress("downloading", job_id=job.id, task_id=job.task_id, task_status="succeed",
                                    elapsed=time.time() - started, bytes_done=done, bytes_total=total))
            now = time.monotonic()
            if now - last_saved[0] > 0.5 or (total and done >= total):
                last_saved[0] = now
                self.store.update(job.id, bytes_done=done, bytes_total=total)

        download_video(job.video_url, dest, expected_duration=float(job.duration), on_progress=on_bytes,
                       cancel=cancel, retry=self.download_retry, deadline_seconds=self.poll.timeout)
        emit(GenerationProgress("verifying", job_id=job.id, task_id=job.task_id, task_status="succeed",
                                elapsed=time.time() - started, bytes_done=seen[0], bytes_total=seen[1]))
        return self.store.update(job.id, stage=DONE, error_kind=None, error_message=None)

    def _finish(self, job: Job, emit: ProgressCallback) -> GenerationResult:
        local = Path(job.local_path)
        video = local
        if job.output_path:
            video = Path(job.output_path)
            if not video.is_file() or not filecmp.cmp(video, local, shallow=False):
                with atomic_output(video) as tmp:
                    shutil.copyfile(local, tmp)
        info = probe(video)
        emit(GenerationProgress("done", job_id=job.id, task_id=job.task_id, task_status=job.task_status,
                                elapsed=time.time() - job.created_at, message=str(video)))
        return GenerationResult(job=self.store.get(job.id), video=video, info=info)

