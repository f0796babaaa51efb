"""Glue for Kling generation: keys or demo mode, jobs started/resumed in the background, the jobs list.

Every job is recorded in the SQLite job store before a request is sent (core/kling/generation.py), so
unfinished jobs are resumed when the studio starts again. Demo mode runs the local Kling simulator
in-process on 127.0.0.1; its jobs cannot outlive the app, so they are closed as failed on the next start.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from ..core.errors import NavTalkError
from ..core.settings import Settings
from ..core.kling.connect import is_loopback
from .document import StudioDocument
from .generate_panel import GeneratePanel
from .jobs_panel import JobsPanel
from .tasks import TaskContext, TaskError, TaskRunner

log = logging.getLogger(__name__)

JOBS_REFRESH_MS = 1000


class GenerateController(QObject):
    message = Signal(str, str)  # text, level
    status = Signal(str)
    video_ready = Signal(object)  # GenerationResult
    jobs_changed = Signal()

    def __init__(self, document: StudioDocument, runner: TaskRunner, settings: Settings, panel: GeneratePanel,
                 jobs_panel: JobsPanel, open_video: Callable[[Path, bool], bool],
                 image_fix: Callable[[], bool], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.doc, self.runner, self.settings = document, runner, settings
        self.panel, self.jobs_panel = panel, jobs_panel
        self._open_video = open_video
        self._image_fix = image_fix
        self.simulator_config = None  # SimulatorConfig for demo mode (tests make it fast)
        self.poll_policy = None  # PollPolicy override (tests poll fast)
        self._simulator = None
        self._simulator_lock = threading.Lock()
        self._store = None
        self._closed = False
        self.running: dict[int, object] = {}  # job id -> TaskHandle
        self._timer = QTimer(self)
        self._timer.setInterval(JOBS_REFRESH_MS)
        self._timer.timeout.connect(self.refresh_jobs)

        panel.demo_check.setChecked(settings.demo_mode)
        panel.generate_requested.connect(self.generate)
        panel.cancel_requested.connect(self.cancel)
        panel.demo_mode_changed.connect(self._demo_changed)
        jobs_panel.open_requested.connect(self.open_job)
        jobs_panel.resume_requested.connect(self.resume)
        jobs_panel.refresh_requested.connect(self.refresh_jobs)
        self.refresh_keys()

    # --- keys, server, store ---------------------------------------------------------------------------------
    def credentials(self):
        """Demo keys in demo mode; otherwise environment, session or keyring keys (None if none)."""
        if self.settings.demo_mode:
            from ..kling_session import demo_credentials

            return demo_credentials()
        return self._account_credentials()

    def _account_credentials(self):
        """The user's Kling keys whatever the demo switch says (a real job resumes on the real server)."""
        from ..core.secrets import load_credentials

        try:
            return load_credentials()
        except NavTalkError as exc:
            log.warning("keys unavailable: %s", exc)
            return None

    def refresh_keys(self) -> None:
        if self.settings.demo_mode:
            self.panel.set_key_status("Demo mode: jobs run on the built-in simulator (offline, no keys needed).",
                                      True)
            return
        try:
            creds = self.credentials()
        except NavTalkError as exc:
            creds = None
            log.warning("keys unavailable: %s", exc)
        if creds is None:
            self.panel.set_key_status("No Kling keys are set. Add them in Settings, or switch on demo mode to try "
                                      "the whole flow offline.", False)
        else:
            kind = "API key" if creds.kind == "api_key" else "access key + secret key"
            self.panel.set_key_status(f"Kling {kind} from the {creds.source}; server {self.configured_base_url()}.",
                                      True)

    def configured_base_url(self) -> str:
        from ..core.kling.client import resolve_base_url

        try:
            return resolve_base_url(self.settings.region, self.settings.base_url or None)
        except NavTalkError:
            return resolve_base_url(None, None)

    def _base_url(self) -> str:
        """Pool thread: the server for a new or resumed job (starting the demo simulator on first use)."""
        if not self.settings.demo_mode:
            return self.configured_base_url()
        with self._simulator_lock:
            if self._simulator is None:
                from ..kling_session import start_demo_simulator

                self._simulator = start_demo_simulator(config=self.simulator_config)
            return self._simulator.base_url

    def store(self):
        if self._store is None:
            from ..core.jobs import JobStore

            self._store = JobStore()
        return self._store

    def _demo_changed(self, on: bool) -> None:
        self.settings.demo_mode = on
        self.refresh_keys()

    # --- jobs list ----------------------------------------------------------------------------------------------
    def refresh_jobs(self) -> None:
        if self._closed:
            return
        try:
            jobs = self.store().list(limit=200)
        except NavTalkError as exc:
            self.message.emit(f"The job list cannot be read: {exc}", "error")
            return
        self.jobs_panel.set_jobs(jobs, set(self.running))
        self.jobs_changed.emit()
        if not self.runner.running("generate"):
            self._timer.stop()

    def resume_unfinished(self) -> None:
        """At start-up: resume every unfinished job made on the configured server."""
        try:
            unfinished = self.store().unfinished()
        except NavTalkError as exc:
            self.message.emit(f"The job list cannot be read: {exc}", "error")
            return
        configured = self.configured_base_url()
        for job in unfinished:
            if job.id in self.running:
                continue
            if job.base_url == configured:  # a real Kling job resumes even while demo mode is on
                self.resume(job.id)
            elif is_loopback(job.base_url):
                from ..kling_session import close_stopped_simulator_job

                # a demo-simulator job: its server ended with the previous session
                close_stopped_simulator_job(self.store(), job)
        self.refresh_jobs()

    # --- generation ---------------------------------------------------------------------------------------------
    def generate(self) -> bool:
        portrait = self.doc.portrait_path
        if portrait is None:
            self.message.emit("Open a portrait image first (File ▸ Open).", "warning")
            return False
        creds = self.credentials()
        if creds is None:
            self.message.emit("No Kling keys are set: add them in Settings, or switch on demo mode.", "warning")
            return False
        from ..core.kling.generation import GenerationRequest

        s = self.panel.settings()
        self.doc.generation = s
        request = GenerationRequest(image=portrait, model=s.model, mode=s.mode, duration=s.duration,
                                    prompt=self.panel.prompt(), loop_tail=s.loop_tail, fix=self._image_fix())
        self._start(None, request, creds, f"Submitting {portrait.name} to {s.model}…")
        return True

    def resume(self, job_id: int) -> None:
        """Continue a job on the server it was submitted to: the demo simulator's jobs with the demo keys,
        any other with the user's keys, whichever way the demo switch is set now."""
        if job_id in self.running:
            return
        try:
            job = self.store().get(job_id)
        except NavTalkError as exc:
            self.message.emit(f"Job {job_id} cannot be resumed: {exc}", "error")
            return
        simulator = self._simulator
        if simulator is not None and job.base_url == simulator.base_url:
            from ..kling_session import demo_credentials

            creds = demo_credentials()
        elif is_loopback(job.base_url) and job.base_url != self.configured_base_url():
            self.message.emit(f"Job {job_id} ran on the demo simulator of an earlier session, which has stopped; "
                              f"generate the clip again.", "warning")
            return
        else:
            creds = self._account_credentials()
            if creds is None:
                self.message.emit(f"Job {job_id} cannot resume without Kling keys: add them in Settings.",
                                  "warning")
                return
        server = job.base_url
        self._start(job_id, None, creds, f"Resuming job {job_id}…", base_url=lambda: server)

    def _start(self, job_id: int | None, request, creds, text: str, base_url: Callable[[], str] | None = None) -> None:
        poll, base_url = self.poll_policy, base_url or self._base_url
        try:
            self.store()  # create the database here first: two first-time opens at once race on its schema
        except NavTalkError as exc:
            self.message.emit(f"The job database cannot be used: {exc}", "error")
            return

        def run(ctx: TaskContext):
            from ..core.jobs import JobStore
            from ..kling_session import session_on

            with session_on(base_url(), creds, poll=poll, store=JobStore()) as session:
                generator = session.generator
                # a new notice ("cannot reach …, next in 4 s") is a new report, never throttled away
                report = lambda p: ctx.report(p, key=(p.stage, p.job_id, p.message))  # noqa: E731
                if job_id is None:
                    return generator.generate(request, on_progress=report, cancel=ctx.cancel)
                return generator.resume(job_id, on_progress=report, cancel=ctx.cancel)

        holder: dict = {}

        def on_report(progress) -> None:
            if progress.job_id is not None and progress.job_id not in self.running:
                self.running[progress.job_id] = holder["handle"]
                holder["job_id"] = progress.job_id
                self.doc.job_id = str(progress.job_id)
                self.refresh_jobs()
            self.panel.show_progress(progress)

        def forget() -> None:
            self.running.pop(holder.get("job_id", job_id), None)
            self.refresh_jobs()

        self.panel.generation_started(text)
        handle = self.runner.start("generate", run, on_report=on_report, on_success=self._generated,
                                   on_failure=self._failed, on_cancelled=self._cancelled, on_finished=forget)
        holder["handle"] = handle
        if job_id is not None:
            self.running[job_id] = handle
            holder["job_id"] = job_id
        self._timer.start()
        self.refresh_jobs()

    def cancel(self) -> None:
        for handle in self.runner.running("generate"):
            handle.cancel()
        self.panel.cancel_button.setEnabled(False)

    def _generated(self, result) -> None:
        changes = f" (portrait converted: {'; '.join(result.image_changes)})" if result.image_changes else ""
        self.panel.generation_finished(f"Job {result.job.id} done: {result.video.name}, "
                                       f"{result.info.duration:.1f} s{changes}")
        self.status.emit(f"Generated {result.video.name}")
        self.video_ready.emit(result)
        busy_elsewhere = (self.doc.source_kind == "video" and self.doc.is_modified
                          and self.doc.job_id != str(result.job.id))
        if busy_elsewhere:
            self.message.emit(f"Job {result.job.id} is ready. Open it from the Jobs list when you are done here.",
                              "info")
            return
        self._open_result(result.video, result.job)

    def _open_result(self, video: Path, job) -> None:
        portrait = Path(job.source_image) if job.source_image else None
        if self._open_video(video, True):
            self.doc.job_id = str(job.id)
            if portrait is not None:
                self.doc.set_portrait(portrait)

    def open_job(self, job_id: int) -> None:
        try:
            job = self.store().get(job_id)
        except NavTalkError as exc:
            self.message.emit(str(exc), "error")
            return
        video = Path(job.output_path or job.local_path or "")
        if job.stage != "done" or not video.is_file():
            self.message.emit(f"Job {job_id} has no video on this computer (it may have been deleted).", "warning")
            return
        self._open_result(video, job)

    def _failed(self, error: TaskError) -> None:
        self.panel.generation_finished(f"Generation failed: {error.message}")
        hint = ""
        if error.retryable:
            hint = " The job is kept; it resumes from the Jobs list or on the next start."
        self.message.emit(f"Generation failed: {error.message}.{hint}", "error")

    def _cancelled(self) -> None:
        self.panel.generation_finished("Generation cancelled. The job is kept: resume it from the Jobs list.")
        self.status.emit("Generation cancelled")

    def shutdown(self) -> None:
        """After the runner has stopped: stop the demo simulator and close the store."""
        self._closed = True
        self._timer.stop()
        with self._simulator_lock:
            if self._simulator is not None:
                self._simulator.stop()
                self._simulator = None
        if self._store is not None:
            self._store.close()
            self._store = None
