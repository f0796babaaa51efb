"""Image pre-flight: every bad image gets its own message and no request; fixable ones are fixed only
with consent, and the exact change is reported."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from kling_helpers import isolated_dirs, make_generator, portrait_320, render_cache, simulator  # noqa: F401
from navtalk_desktop.core.jobs import JobStore
from navtalk_desktop.core.kling.errors import ImagePreflightError
from navtalk_desktop.core.kling.generation import GenerationRequest
from navtalk_desktop.core.kling.preflight import MAX_BYTES, prepare_image


def _save(img: Image.Image, path, fmt=None, **kw):
    img.save(path, fmt, **kw)
    return path


def _noise_png(path, side=2000):
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)).save(path, "PNG", compress_level=1)
    return path


def _bad_images(tmp_path, portrait):
    face = Image.open(portrait).convert("RGB")
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(portrait.read_bytes()[:200] + b"\x00garbage" * 50)
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    gif = tmp_path / "animated.gif"
    frames = [face.resize((320, 320)), face.resize((320, 320)).rotate(5), face.resize((320, 320)).rotate(10)]
    frames[0].save(gif, save_all=True, append_images=frames[1:], duration=100, loop=0)
    text = tmp_path / "notes.png"
    text.write_text("this is not a picture\nreally, it is text\n")
    return {
        "corrupt": (corrupt, r"corrupt\.png is a corrupt or truncated image|corrupt\.png is not a readable image"),
        "zero bytes": (empty, r"empty\.jpg is empty \(0 bytes\)"),
        "299 px": (_save(face.resize((299, 400)), tmp_path / "small.png"),
                   r"small\.png is 299×400 px; Kling needs both sides to be at least 300 px"),
        "1:3 aspect": (_save(face.resize((300, 900)), tmp_path / "tall.jpg", quality=90),
                       r"tall\.jpg has an aspect ratio of 1:3\.00 \(300×900 px\); Kling accepts 1:2\.5 to 2\.5:1"),
        "12 MB": (_noise_png(tmp_path / "huge.png"), r"huge\.png cannot be uploaded as is: it is 1[12]\.\d MB, "
                                                      r"Kling accepts at most 10\.0 MB\. Run again with --fix"),
        "animated GIF": (gif, r"animated\.gif is an animated GIF \(3 frames\); Kling needs one still JPG or PNG"),
        "text named .png": (text, r"notes\.png is not an image: it contains text \(the '\.png' name is misleading\)"),
    }


def test_each_bad_image_gets_a_specific_message_and_no_request(tmp_path, portrait_320, simulator, isolated_dirs):
    gen = make_generator(simulator)
    bad = _bad_images(tmp_path, portrait_320)
    assert (tmp_path / "huge.png").stat().st_size > MAX_BYTES
    messages = set()
    for name, (path, pattern) in bad.items():
        with pytest.raises(ImagePreflightError, match=pattern) as err:
            gen.generate(GenerationRequest(image=path, output=tmp_path / f"{name}.mp4"))
        messages.add(str(err.value))
    assert len(messages) == len(bad)  # all different
    assert simulator.stats.api_requests == 0 and simulator.stats.create_requests == 0
    assert JobStore().list() == []  # no job row either


def test_webp_bmp_need_consent_then_convert_to_png(tmp_path, portrait_320):
    face = Image.open(portrait_320)
    for fmt, ext in (("WEBP", "webp"), ("BMP", "bmp")):
        path = _save(face, tmp_path / f"face.{ext}", fmt)
        with pytest.raises(ImagePreflightError, match=fr"it is {fmt}, Kling accepts JPG or PNG only.*--fix") as err:
            prepare_image(path)
        assert err.value.fixable
        prepared = prepare_image(path, fix=True)
        assert prepared.format == "PNG" and (prepared.width, prepared.height) == (320, 320)
        assert f"converted {fmt} → PNG" in prepared.changes
        assert Image.open(io.BytesIO(prepared.data)).format == "PNG"


def test_exif_rotation_is_applied_with_fix(tmp_path, portrait_320):
    face = Image.open(portrait_320).convert("RGB").resize((400, 320))
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "rotated.jpg"
    face.save(path, "JPEG", quality=95, exif=exif.tobytes())
    with pytest.raises(ImagePreflightError, match="EXIF orientation says rotated 90° clockwise"):
        prepare_image(path)
    prepared = prepare_image(path, fix=True)
    assert (prepared.width, prepared.height) == (320, 400)
    assert any("applied EXIF orientation 6" in c and "320×400 px" in c for c in prepared.changes)
    out = Image.open(io.BytesIO(prepared.data))
    assert out.size == (320, 400) and out.getexif().get(0x0112, 1) == 1


def test_png_alpha_is_flattened_with_fix(tmp_path, portrait_320):
    rgba = Image.open(portrait_320).convert("RGBA")
    alpha = np.full((320, 320), 255, np.uint8)
    alpha[:40, :40] = 0
    rgba.putalpha(Image.fromarray(alpha))
    path = _save(rgba, tmp_path / "cutout.png")
    with pytest.raises(ImagePreflightError, match="it has transparent pixels"):
        prepare_image(path)
    prepared = prepare_image(path, fix=True)
    assert "flattened transparent pixels onto white" in prepared.changes
    out = Image.open(io.BytesIO(prepared.data))
    assert out.mode == "RGB" and out.getpixel((5, 5)) == (255, 255, 255)
    opaque = _save(Image.open(portrait_320).convert("RGBA"), tmp_path / "opaque.png")
    assert prepare_image(opaque).changes == []  # an unused alpha channel is harmless: uploaded as is


def test_too_many_bytes_is_reencoded_under_10mb(tmp_path):
    path = _noise_png(tmp_path / "huge.png")
    prepared = prepare_image(path, fix=True)
    assert len(prepared.data) <= MAX_BYTES
    assert prepared.format == "JPEG"
    assert "converted PNG → JPEG (quality 92)" in prepared.changes
    assert any(c.startswith("file size 1") and c.endswith("MB") for c in prepared.changes)


def test_heic_without_decoder_gets_a_specific_message(tmp_path):
    path = tmp_path / "IMG_0001.HEIC"
    path.write_bytes(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 200)
    with pytest.raises(ImagePreflightError, match="HEIC/HEIF image could not be decoded; export it as JPG or PNG"):
        prepare_image(path, fix=True)


def test_good_image_is_uploaded_unchanged_as_raw_base64(portrait_320):
    prepared = prepare_image(portrait_320)
    assert prepared.changes == [] and prepared.data == portrait_320.read_bytes()
    text = prepared.base64()
    assert not text.startswith("data:")
    assert base64.b64decode(text, validate=True) == prepared.data


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ImagePreflightError, match="image not found"):
        prepare_image(tmp_path / "nope.png")
    with pytest.raises(ImagePreflightError, match="is a folder"):
        prepare_image(tmp_path)


def test_oversized_picture_is_a_note_and_downscaled_only_with_fix(tmp_path):
    path = tmp_path / "poster.png"
    Image.new("RGB", (5000, 4000), (120, 90, 80)).save(path)
    prepared = prepare_image(path)
    assert prepared.changes == [] and prepared.data == path.read_bytes()  # Kling takes it: uploaded as is
    assert prepared.notes == ["5000×4000 px is more than Kling uses (≤1080p output); --fix would downscale it "
                              "to at most 4096 px"]
    fixed = prepare_image(path, fix=True)
    assert (fixed.width, fixed.height) == (4096, 3277)
    assert fixed.changes[0] == "downscaled 5000×4000 → 4096×3277 px"
