"""The plain data of the Kling API: a task as Kling reports it, a create request with every local rule,
and the retry and polling cadences. No HTTP here (that is `client.py`)."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Any

from ..cancel import CancelToken
from .capabilities import check_request, model_capabilities, normalize_duration
from .errors import KlingParameterError, KlingTransportError
from .prompts import check_prompt

FINISHED = ("succeed", "failed")


@dataclass
class RetryPolicy:
    """Exponential backoff for retryable answers (1302/1303/5xx/network)."""

    attempts: int = 6
    initial: float = 1.0
    factor: float = 2.0
    max_delay: float = 30.0

    def delay(self, attempt: int) -> float:
        base = min(self.max_delay, self.initial * self.factor ** attempt)
        return base * random.uniform(0.85, 1.15)


@dataclass
class PollPolicy:
    """Polling cadence: start quick (failures arrive in ~2 s), then slow down."""

    initial: float = 2.0
    factor: float = 1.4
    max_interval: float = 10.0
    timeout: float = 30 * 60.0


@dataclass
class TaskInfo:
    """One task as Kling reports it; every field optional because Kling's schema is loose."""

    task_id: str
    status: str
    status_msg: str = ""
    external_task_id: str | None = None
    video_url: str | None = None
    video_id: str | None = None
    video_duration: str | None = None
    created_at: int | None = None
    updated_at: int | None = None
    raw: dict = field(default_factory=dict, repr=False)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @classmethod
    def from_data(cls, data: dict) -> "TaskInfo":
        if not isinstance(data, dict) or data.get("task_id") in (None, ""):
            raise KlingTransportError("Kling answered without a task_id")
        info = data.get("task_info") or {}
        result = data.get("task_result") or {}
        videos = (result.get("videos") or []) if isinstance(result, dict) else []
        video = videos[0] if videos and isinstance(videos[0], dict) else {}
        return cls(
            task_id=str(data["task_id"]),
            status=str(data.get("task_status") or "submitted").lower(),
            status_msg=str(data.get("task_status_msg") or ""),
            external_task_id=(info.get("external_task_id") or None) if isinstance(info, dict) else None,
            video_url=video.get("url") or None,
            video_id=str(video["id"]) if video.get("id") is not None else None,
            video_duration=str(video["duration"]) if video.get("duration") is not None else None,
            created_at=data.get("created_at"),
            updated_at=data.get("updated_at"),
            raw=data,
        )


@dataclass
class CreateTaskRequest:
    image_base64: str = field(repr=False)
    model: str
    mode: str
    duration: str
    prompt: str = ""
    negative_prompt: str = ""
    cfg_scale: float | None = None
    external_task_id: str | None = None
    loop_tail: bool = False
    callback_url: str | None = None

    def to_body(self) -> dict[str, Any]:
        """The JSON body, after every local rule (capability map, prompt length, base64 form)."""
        duration = normalize_duration(self.duration)
        caps = check_request(self.model, self.mode, duration, loop_tail=self.loop_tail)
        if self.image_base64.startswith("data:"):
            raise KlingParameterError("image must be raw base64 without a 'data:' prefix")
        body: dict[str, Any] = {"model_name": self.model, "image": self.image_base64, "duration": duration}
        if caps.takes_mode:
            body["mode"] = self.mode
        prompt = check_prompt(self.prompt, "prompt")
        negative = check_prompt(self.negative_prompt, "negative prompt")
        if prompt:
            body["prompt"] = prompt
        elif caps.requires_prompt:
            raise KlingParameterError(f"{self.model} needs a prompt; leave the default or write one")
        if negative:
            body["negative_prompt"] = negative
        if self.cfg_scale is not None and model_capabilities(self.model).takes_cfg_scale:
            if not 0.0 <= float(self.cfg_scale) <= 1.0:
                raise KlingParameterError(f"cfg_scale must be between 0 and 1, got {self.cfg_scale}")
            body["cfg_scale"] = float(self.cfg_scale)
        if self.loop_tail:
            body["image_tail"] = self.image_base64
        if caps.has_sound:
            body["sound"] = "off"
        if self.external_task_id:
            body["external_task_id"] = self.external_task_id
        if self.callback_url:
            body["callback_url"] = self.callback_url
        return body


def sleep_or_cancel(seconds: float, cancel: CancelToken | None) -> None:
    """Sleep in short slices so Cancel is honoured within ~0.1 s."""
    end = time.monotonic() + max(0.0, seconds)
    while True:
        if cancel is not None:
            cancel.raise_if_cancelled()
        left = end - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(0.1, left))
