"""The default prompt for NavTalk's idle loop: a still, camera-facing avatar that blinks once.

Written so the generated clip is easy to loop: no camera move, steady light, a single natural blink
early (so the analysis finds a clean cut point), and an end that matches the start.
"""

from __future__ import annotations

from .errors import KlingParameterError

MAX_PROMPT_CHARS = 2500

DEFAULT_IDLE_PROMPT = (
    "The person faces the camera directly and stays still, calm and attentive, with a neutral, relaxed "
    "expression and mouth closed. After about one second they blink once, naturally and fully, then keep "
    "their eyes open and gaze at the camera. Only tiny natural breathing movement, no head turn, no nod, "
    "no talking, no hand gestures. Static camera: no zoom, no pan, no camera shake. Neutral, even lighting "
    "that does not change. The last frame matches the first frame exactly, so the clip loops seamlessly."
)

DEFAULT_NEGATIVE_PROMPT = (
    "camera movement, zoom, pan, head turning, nodding, talking, open mouth, smiling broadly, hand "
    "gestures, multiple blinks, flicker, lighting change, background change, blur, distortion, "
    "extra people, text, watermark"
)


def check_prompt(text: str | None, what: str = "prompt") -> str:
    """Kling allows at most 2500 characters for prompt and negative_prompt."""
    text = (text or "").strip()
    if len(text) > MAX_PROMPT_CHARS:
        raise KlingParameterError(
            f"the {what} is {len(text)} characters long; Kling accepts at most {MAX_PROMPT_CHARS}"
        )
    return text
