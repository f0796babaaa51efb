"""Simulated Kling tasks: registry, lifecycle (submitted → processing → succeed/failed) and rendering.

The result video is rendered from the uploaded portrait by the face animator (a blink at ~1 s, subtle
motion, the requested duration at the model's fps) and cached by content, so repeated runs are fast
and byte-identical.
"""

from __future__ import annotations

import hashlib
import io
import logging
import random
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
from PIL import Image

from .config import SimulatorConfig
from .validation import CreateParams, Rejected

log = logging.getLogger(__name__)


def _ms() -> int:
    return int(time.time() * 1000)


@dataclass
class SimTask:
    task_id: str
    external_task_id: str | None
    params: CreateParams = field(repr=False)
    status: str = "submitted"
    status_msg: str = ""
    created_at: int = field(default_factory=_ms)
    updated_at: int = field(default_factory=_ms)
    video_id: str | None = None
    video_path: Path | None = None
    video_duration: str | None = None

    def to_data(self, base_url: str) -> dict:
        result: dict = {}
        if self.status == "succeed" and self.video_id:
            result = {"videos": [{"id": self.video_id, "url": f"{base_url}/videos/{self.video_id}.mp4",
                                  "duration": self.video_duration}]}
        return {
            "task_id": self.task_id,
            "task_status": self.status,
            "task_status_msg": self.status_msg,
            "task_info": {"external_task_id": self.external_task_id} if self.external_task_id else {},
            "task_result": result,
            "watermark_info": {"enabled": False},
            "final_unit_deduction": "1" if self.status == "succeed" else "0",
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


class Renderer:
    """Face-animator renders, cached on disk by (image, size, fps, duration)."""

    def __init__(self, cache_dir: Path | None, max_side: int) -> None:
        self._own_dir = cache_dir is None
        self.cache_dir = Path(cache_dir) if cache_dir else Path(tempfile.mkdtemp(prefix="navtalk-sim-"))
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        self.max_side = max_side
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def close(self) -> None:
        if self._own_dir:
            shutil.rmtree(self.cache_dir, ignore_errors=True)

    def _portrait(self, data: bytes) -> np.ndarray:
        with Image.open(io.BytesIO(data)) as img:
            rgb = img.convert("RGB")
        scale = min(1.0, self.max_side / max(rgb.size))
        w = max(2, int(round(rgb.width * scale / 2)) * 2)
        h = max(2, int(round(rgb.height * scale / 2)) * 2)
        if (w, h) != rgb.size:
            rgb = rgb.resize((w, h), Image.LANCZOS)
        return np.asarray(rgb)

    def render(self, image: bytes, duration: float, fps: float) -> Path:
        from ..core.animator import AnimationSpec, render_face_video

        digest = hashlib.sha256(image).hexdigest()[:20]
        key = f"{digest}_{self.max_side}_{fps:g}fps_{duration:g}s"
        path = self.cache_dir / f"{key}.mp4"
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if not path.is_file():
                spec = AnimationSpec(fps=fps, duration=duration, blink_times=(1.0,), motion=1.0,
                                     seed=int(digest[:8], 16))
                render_face_video(self._portrait(image), path, spec)
        return path


class TaskRegistry:
    def __init__(self, config: SimulatorConfig, base_url: str) -> None:
        self.config = config
        self.base_url = base_url
        self.renderer = Renderer(config.render_cache_dir, config.video_max_side)
        self._lock = threading.Lock()
        self._tasks: dict[str, SimTask] = {}
        self._by_external: dict[str, str] = {}
        self._videos: dict[str, Path] = {}
        self._stop = threading.Event()
        self.created_count = 0
        self.task_created = threading.Event()  # set on every registration (tests wait on it)

    def stop(self) -> None:
        self._stop.set()
        self.renderer.close()

    # -- registry ------------------------------------------------------------------------------------
    def create(self, params: CreateParams) -> SimTask:
        with self._lock:
            if params.external_task_id and params.external_task_id in self._by_external:
                raise Rejected(400, 1201, "external_task_id already exists")
            running = sum(t.status in ("submitted", "processing") for t in self._tasks.values())
            if running >= self.config.max_concurrent:
                raise Rejected(429, 1303, "parallel task over resource pack limit")
            task_id = str(random.randint(10**17, 10**18 - 1))
            while task_id in self._tasks:
                task_id = str(random.randint(10**17, 10**18 - 1))
            task = SimTask(task_id=task_id, external_task_id=params.external_task_id, params=params)
            self._tasks[task_id] = task
            if params.external_task_id:
                self._by_external[params.external_task_id] = task_id
            self.created_count += 1
        self.task_created.set()
        threading.Thread(target=self._lifecycle, args=(task,), name=f"sim-task-{task_id}", daemon=True).start()
        return task

    def get(self, any_id: str) -> SimTask | None:
        with self._lock:
            task = self._tasks.get(any_id)
            if task is None and any_id in self._by_external:
                task = self._tasks.get(self._by_external[any_id])
            return task

    def page(self, page: int, size: int) -> list[SimTask]:
        with self._lock:
            newest_first = sorted(self._tasks.values(), key=lambda t: (t.created_at, t.task_id), reverse=True)
        return newest_first[(page - 1) * size : page * size]

    def video(self, video_id: str) -> Path | None:
        with self._lock:
            return self._videos.get(video_id)

    def tasks(self) -> list[SimTask]:
        with self._lock:
            return list(self._tasks.values())

    # -- lifecycle -----------------------------------------------------------------------------------
    def _set(self, task: SimTask, status: str, msg: str = "") -> None:
        with self._lock:
            task.status, task.status_msg, task.updated_at = status, msg, _ms()
        self._callback(task)

    def _wait(self, seconds: float) -> bool:
        """Sleep; False if the simulator is stopping."""
        return not self._stop.wait(max(0.0, seconds))

    def _lifecycle(self, task: SimTask) -> None:
        cfg = self.config
        picture = task.params.image or task.params.image_tail
        if not picture.pixels_ok:
            if self._wait(cfg.invalid_image_fail_seconds):
                self._set(task, "failed", "Image pixel is invalid")
            return
        if not self._wait(cfg.submitted_seconds):
            return
        self._set(task, "processing")
        started = time.monotonic()
        duration = float(task.params.duration)
        try:
            path = self.renderer.render(picture.data, duration, task.params.model.fps)
        except Exception as exc:  # the simulator can only animate faces
            log.info("simulated render failed: %s", exc)
            self._set(task, "failed", f"simulator could not animate the image: {exc}")
            return
        if not self._wait(cfg.processing_seconds - (time.monotonic() - started)):
            return
        while cfg.faults.never_finish:
            if not self._wait(0.1):
                return
        video_id = str(random.randint(10**17, 10**18 - 1))
        with self._lock:
            self._videos[video_id] = path
            task.video_id, task.video_path, task.video_duration = video_id, path, f"{duration:.1f}"
        self._set(task, "succeed")

    def _callback(self, task: SimTask) -> None:
        """POST the unwrapped task to callback_url; loopback only (the simulator never leaves 127.0.0.1)."""
        url = task.params.callback_url
        if not url or urlparse(url).hostname not in ("127.0.0.1", "localhost"):
            return
        data = task.to_data(self.base_url)

        def send() -> None:
            import httpx

            try:
                httpx.post(url, json=data, timeout=5)
            except httpx.HTTPError:
                pass  # callbacks are best effort, as on the real service

        threading.Thread(target=send, daemon=True).start()
