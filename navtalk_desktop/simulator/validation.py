"""Create-request validation with Kling's answers (HTTP 400, code 1201 unless noted), per kling-api.md §8."""

from __future__ import annotations

import base64
import binascii
import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from ..core.kling.capabilities import MODELS, ModelCapabilities

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_PROMPT = 2500
BASE64_ERROR = "File is not in a valid base64 format"


class Rejected(Exception):
    def __init__(self, http_status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.code = code
        self.message = message


@dataclass
class ValidImage:
    data: bytes
    width: int
    height: int

    @property
    def pixels_ok(self) -> bool:
        """Kling accepts these, then fails the task late ("Image pixel is invalid")."""
        ratio = self.width / self.height
        return min(self.width, self.height) >= 300 and 1 / 2.5 <= ratio <= 2.5


@dataclass
class CreateParams:
    model: ModelCapabilities
    mode: str
    duration: str
    prompt: str
    image: ValidImage | None
    image_tail: ValidImage | None
    external_task_id: str | None
    callback_url: str | None


def _bad(message: str, code: int = 1201, status: int = 400) -> Rejected:
    return Rejected(status, code, message)


def _image(value, field: str) -> ValidImage | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise _bad(f"{field} must be a string")
    if value.startswith(("http://", "https://")):
        raise _bad(f"{field}: the local simulator accepts base64 images only")
    if value.startswith("data:"):
        raise _bad(BASE64_ERROR)
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _bad(BASE64_ERROR) from None
    if not data:
        raise _bad(BASE64_ERROR)
    if len(data) > MAX_IMAGE_BYTES:
        raise _bad(f"{field} size exceeds 10MB")
    try:
        with Image.open(io.BytesIO(data)) as img:
            fmt = img.format
            img.load()
            size = img.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise _bad(f"{field} is not a valid image") from None
    if fmt not in ("JPEG", "PNG"):
        raise _bad(f"{field} format is invalid, only jpg/jpeg/png are supported")
    return ValidImage(data, size[0], size[1])


def validate_create(body) -> CreateParams:
    if not isinstance(body, dict):
        raise _bad("Invalid request parameters: body must be a JSON object", code=1200)
    model_name = body.get("model_name") or body.get("model") or "kling-v1"
    model = MODELS.get(model_name)
    if model is None:
        raise _bad(f"model_name is invalid: {model_name}")
    mode = body.get("mode") or "std"
    if mode not in ("std", "pro"):
        raise _bad(f"mode is invalid: {mode}")
    duration = body.get("duration", "5")
    if not isinstance(duration, str):
        raise _bad("duration must be a string")
    if duration not in model.durations:
        raise _bad(f"duration is invalid for {model.name}: {duration}")
    for field in ("prompt", "negative_prompt"):
        value = body.get(field) or ""
        if not isinstance(value, str):
            raise _bad(f"{field} must be a string")
        if len(value) > MAX_PROMPT:
            raise _bad(f"{field} length must not exceed {MAX_PROMPT} characters")
    if "cfg_scale" in body and body["cfg_scale"] is not None:
        cfg = body["cfg_scale"]
        if isinstance(cfg, bool) or not isinstance(cfg, (int, float)) or not 0 <= cfg <= 1:
            raise _bad("cfg_scale must be a number between 0 and 1")
    image = _image(body.get("image"), "image")
    tail = _image(body.get("image_tail"), "image_tail")
    if image is None and tail is None:
        raise _bad("image or image_tail is required")
    if tail is not None:
        if body.get("static_mask") or body.get("dynamic_masks") or body.get("camera_control"):
            raise _bad("image_tail, dynamic_masks/static_mask and camera_control cannot be used at the same time")
        if not model.tail_combos:
            raise _bad("Image tail is not supported by the current model")
        if (mode, duration) not in model.tail_combos:
            raise _bad(f"model/mode/duration({model.name}/{mode}/{duration}) is not supported with image_tail")
        if body.get("sound") == "on":
            raise _bad("sound is not supported with image_tail")
    ext = body.get("external_task_id") or None
    if ext is not None and not isinstance(ext, str):
        raise _bad("external_task_id must be a string")
    return CreateParams(model=model, mode=mode, duration=duration, prompt=body.get("prompt") or "",
                        image=image, image_tail=tail, external_task_id=ext,
                        callback_url=body.get("callback_url") or None)
