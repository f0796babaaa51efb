"""Create-request validation with Kling's answers (HTTP 400, code 1201 unless noted), as docs/design-notes.md#kling-simulator describes."""

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
    multi_shot = _check_v3_and_sound_fields(body, model, duration, tail is not None)
    if model.requires_prompt and not multi_shot and not (body.get("prompt") or "").strip():
        raise _bad(f"prompt is required for {model.name} unless multi_shot is used")
    masks = bool(body.get("static_mask") or body.get("dynamic_masks"))
    camera = body.get("camera_control")
    if sum((tail is not None, masks, bool(camera))) > 1:
        raise _bad("image+image_tail, dynamic_masks/static_mask and camera_control cannot be used at the same time")
    if masks:
        _check_masks(body)
    if camera:
        _check_camera(camera, model, mode, duration)
    if body.get("watermark_info") is not None:
        mark = body["watermark_info"]
        if not isinstance(mark, dict) or not isinstance(mark.get("enabled", False), bool):
            raise _bad("watermark_info must be an object like {\"enabled\": true}")
    if body.get("callback_url") is not None and not isinstance(body["callback_url"], str):
        raise _bad("callback_url must be a string")
    if tail is not None:
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


_CAMERA_TYPES = ("simple", "down_back", "forward_up", "right_turn_forward", "left_turn_forward")
_CAMERA_AXES = ("horizontal", "vertical", "pan", "tilt", "roll", "zoom")


def _check_v3_and_sound_fields(body: dict, model: ModelCapabilities, duration: str, has_tail: bool) -> bool:
    """sound / voice_list (v2.6+), element_list and multi-shot (v3); returns whether multi_shot is on."""
    sound = body.get("sound")
    if sound is not None and sound not in ("on", "off"):
        raise _bad(f"sound is invalid: {sound}")
    if sound == "on" and not model.has_sound:
        raise _bad(f"sound is not supported by {model.name}")
    voices, elements = body.get("voice_list"), body.get("element_list")
    if voices:
        if not isinstance(voices, list) or len(voices) > 2 or not all(
                isinstance(v, dict) and v.get("voice_id") for v in voices):
            raise _bad("voice_list must hold at most 2 entries like {\"voice_id\": \"...\"}")
        if not model.has_sound or sound != "on":
            raise _bad("voice_list requires sound \"on\" on kling-v2-6 or later")
        if elements:
            raise _bad("voice_list and element_list cannot be used at the same time")
    if elements and (model.name != "kling-v3" or not isinstance(elements, list) or len(elements) > 3):
        raise _bad("element_list takes at most 3 elements and only on kling-v3")
    multi_shot = body.get("multi_shot", False)
    if not isinstance(multi_shot, bool):
        raise _bad("multi_shot must be a boolean")
    if not multi_shot:
        return False
    if model.name != "kling-v3":
        raise _bad(f"multi_shot is not supported by {model.name}")
    if has_tail:
        raise _bad("first/end frame generation is not supported with multi_shot")
    shot_type = body.get("shot_type")
    if shot_type not in ("customize", "intelligence"):
        raise _bad("shot_type must be customize or intelligence when multi_shot is true")
    if shot_type == "intelligence" and not (body.get("prompt") or "").strip():
        raise _bad("prompt is required when shot_type is intelligence")
    if shot_type == "customize":
        shots = body.get("multi_prompt")
        if not isinstance(shots, list) or not 1 <= len(shots) <= 6:
            raise _bad("multi_prompt must hold 1 to 6 shots")
        total = 0
        for shot in shots:
            if not isinstance(shot, dict) or not isinstance(shot.get("prompt"), str) or len(shot["prompt"]) > 512:
                raise _bad("each multi_prompt shot needs a prompt of at most 512 characters")
            try:
                total += int(str(shot.get("duration")))
            except ValueError:
                raise _bad("each multi_prompt shot needs a duration") from None
        if str(total) != duration:
            raise _bad(f"multi_prompt durations add up to {total}, not the duration {duration}")
    return True


def _check_masks(body: dict) -> None:
    masks = body.get("dynamic_masks") or []
    if not isinstance(masks, list) or len(masks) > 6:
        raise _bad("dynamic_masks takes at most 6 groups")
    for group in masks:
        points = group.get("trajectories") if isinstance(group, dict) else None
        if not isinstance(group, dict) or not group.get("mask") or not isinstance(points, list):
            raise _bad("each dynamic_masks group needs a mask and trajectories")
        if not 2 <= len(points) <= 77 or not all(
                isinstance(p, dict) and isinstance(p.get("x"), int) and isinstance(p.get("y"), int) for p in points):
            raise _bad("trajectories need 2 to 77 points with integer x and y")


def _check_camera(camera, model: ModelCapabilities, mode: str, duration: str) -> None:
    if not isinstance(camera, dict) or camera.get("type") not in _CAMERA_TYPES:
        raise _bad(f"camera_control type must be one of: {', '.join(_CAMERA_TYPES)}")
    if (model.name, mode, duration, camera["type"]) != ("kling-v1-5", "pro", "5", "simple"):
        raise _bad("camera_control is only supported with kling-v1-5 in pro mode, 5s duration, type simple")
    config = camera.get("config")
    if not isinstance(config, dict):
        raise _bad("camera_control config is required for type simple")
    values = [config.get(axis, 0) for axis in _CAMERA_AXES]
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) or not -10 <= v <= 10 for v in values):
        raise _bad("camera_control config values must be numbers in [-10, 10]")
    if sum(v != 0 for v in values) != 1:
        raise _bad("camera_control config needs exactly one non-zero value")
