"""Image pre-flight: check a portrait against Kling's upload rules before any request is sent.

Rules (kling-api.md §2.5): JPG/PNG only, at most 10 MB, both sides >= 300 px, aspect ratio 1:2.5..2.5:1,
raw base64. Kling accepts undersized images and fails them minutes later ("Image pixel is invalid"), so
checking here saves a paid task. Problems the client can repair (other formats, EXIF rotation,
transparency, too many bytes) are repaired only with consent (`fix=True`), and every change is reported.
"""

from __future__ import annotations

import base64
import io
import struct
import subprocess
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImagePreflightError

MAX_BYTES = 10 * 1024 * 1024
MIN_SIDE = 300
MAX_ASPECT = 2.5
#: Not a Kling rule: Kling renders at most 1080p, so bigger uploads only cost time. A note, never a block.
ADVISED_MAX_SIDE = 4096
#: Pictures with more pixels are never decoded whole (Pillow's own decompression-bomb threshold, ~89 MP:
#: a 50 MP phone photo passes, a 15000×15000 PNG of a few KB does not).
MAX_DECODE_PIXELS = Image.MAX_IMAGE_PIXELS or 89_478_485
_UPLOAD_FORMATS = {"JPEG", "PNG"}
_CONVERTIBLE = {"WEBP", "BMP", "GIF", "TIFF", "HEIF", "HEIC", "MPO", "AVIF", "ICO", "PPM"}
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"avif"}
_ORIENTATION_TEXT = {2: "mirrored", 3: "rotated 180°", 4: "flipped vertically", 5: "mirrored and rotated 90°",
                     6: "rotated 90° clockwise", 7: "mirrored and rotated 90°", 8: "rotated 90° counter-clockwise"}


@dataclass
class PreparedImage:
    """The bytes that will be uploaded, and what (if anything) was changed to get them."""

    source: Path
    data: bytes
    format: str  # "JPEG" or "PNG"
    width: int
    height: int
    changes: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def suffix(self) -> str:
        return ".jpg" if self.format == "JPEG" else ".png"

    def base64(self) -> str:
        """Raw base64, never a `data:` URI (Kling rejects the prefix)."""
        return base64.b64encode(self.data).decode("ascii")


def _mb(n: int) -> str:
    if n < 1024 * 1024:
        return f"{max(1, round(n / 1024))} KB"
    return f"{n / (1024 * 1024):.1f} MB"


def _looks_like_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return printable >= 0.95 * len(text)


def _heif_brand(head: bytes) -> bytes | None:
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return head[8:12]
    return None


def _decode_heif_with_ffmpeg(path: Path) -> Image.Image:
    """Pillow cannot read HEIC without a plugin; the bundled ffmpeg can."""
    from ..ffmpeg import ffmpeg_exe, clean_env

    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(path),
         "-frames:v", "1", "-f", "image2pipe", "-c:v", "png", "pipe:1"],
        capture_output=True, env=clean_env(), timeout=60,
    )
    if proc.returncode != 0 or not proc.stdout:
        raise ImagePreflightError(
            f"{path.name}: HEIC/HEIF image could not be decoded; export it as JPG or PNG first"
        )
    return Image.open(io.BytesIO(proc.stdout))


def header_size(path: Path) -> tuple[int, int, str] | None:
    """(width, height, format) from the file header only, or None if Pillow knows no such format.

    Pillow's own `Image.open` refuses (DecompressionBombError) before it tells the size, so the format
    plugins are asked directly; none of them decodes pixels when opened."""
    Image.init()
    with path.open("rb") as fp:
        prefix = fp.read(16)
        for fmt in Image.ID:
            factory, accept = Image.OPEN[fmt]
            if accept is not None and not accept(prefix):
                continue
            fp.seek(0)
            try:
                im = factory(fp, str(path))
            except (SyntaxError, IndexError, TypeError, struct.error, OSError, ValueError):
                continue
            return im.width, im.height, im.format or fmt
    return None


def _too_many_pixels(name: str, width: int, height: int) -> ImagePreflightError:
    return ImagePreflightError(
        f"{name}: the image is {width}×{height} px; Kling accepts at most {_mb(MAX_BYTES)} and renders at "
        f"most 1080p, and this app decodes at most {MAX_DECODE_PIXELS / 1e6:.0f} megapixels "
        f"({width * height / 1e6:.0f} here)",
        fixable=True, fix=f"scale it to at most {ADVISED_MAX_SIDE} px per side",
    )


def _reduced_size(width: int, height: int) -> tuple[int, int]:
    """The largest size within ADVISED_MAX_SIDE and MAX_DECODE_PIXELS with the same aspect ratio."""
    scale = min(1.0, ADVISED_MAX_SIDE / max(width, height), (MAX_DECODE_PIXELS / (width * height)) ** 0.5)
    return max(1, int(width * scale)), max(1, int(height * scale))


def _open_reduced(path: Path, fmt: str, width: int, height: int) -> Image.Image:
    """A picture with too many pixels to decode whole, scaled down without a full decode: JPEG decodes at
    1/2..1/8 scale (libjpeg DCT scaling); other formats are scaled by ffmpeg in a child process, so a
    decompression bomb can never take this process's memory."""
    from ..ffmpeg import clean_env, ffmpeg_exe

    target_w, target_h = _reduced_size(width, height)
    if fmt == "JPEG":
        factory, _ = Image.OPEN["JPEG"]
        with path.open("rb") as fp:
            img = factory(fp, str(path))  # no bomb check: draft() below keeps the decode small
            img.draft("RGB", (max(1, target_w // 2), max(1, target_h // 2)))  # between half and full target
            if img.width * img.height > MAX_DECODE_PIXELS:
                raise _too_many_pixels(path.name, width, height)
            img.load()
        return img
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(path), "-frames:v", "1",
         "-vf", f"scale={target_w}:{target_h}", "-f", "image2pipe", "-c:v", "png", "pipe:1"],
        capture_output=True, env=clean_env(), timeout=180,
    )
    if proc.returncode != 0 or not proc.stdout:
        raise ImagePreflightError(f"{path.name} ({width}×{height} px) could not be scaled down; scale it to at "
                                  f"most {ADVISED_MAX_SIDE} px per side in an image editor first")
    img = Image.open(io.BytesIO(proc.stdout))
    img.load()
    return img


def _open(path: Path, fix: bool = False) -> tuple[Image.Image, str, int]:
    """Open and fully decode `path`; return (image, format, file size) or a specific error.

    The size is read from the header first: a picture over MAX_DECODE_PIXELS is never decoded whole."""
    if str(path).lower().startswith("data:"):
        raise ImagePreflightError(
            "the image argument is a data: URI (inline base64), not a file; save the picture as a JPG or PNG "
            "file and pass its path"
        )
    try:
        exists = path.exists()
    except OSError as exc:  # e.g. a name too long for the file system
        raise ImagePreflightError(f"cannot read the image {str(path)[:80]}: {exc.strerror or exc}") from None
    if not exists:
        raise ImagePreflightError(f"image not found: {path}")
    if path.is_dir():
        raise ImagePreflightError(f"{path} is a folder, not an image")
    size = path.stat().st_size
    if size == 0:
        raise ImagePreflightError(f"{path.name} is empty (0 bytes)")
    with path.open("rb") as fh:
        head = fh.read(4096)
    brand = _heif_brand(head)
    if brand is not None:
        img = _decode_heif_with_ffmpeg(path)
        img.load()
        return img, "AVIF" if brand == b"avif" else "HEIC", size
    try:
        header = header_size(path)
    except OSError as exc:
        raise ImagePreflightError(f"cannot read the image {path.name}: {exc.strerror or exc}") from None
    if header is not None and header[0] * header[1] > MAX_DECODE_PIXELS:
        width, height, fmt = header
        if not fix:
            raise _too_many_pixels(path.name, width, height)
        img = _open_reduced(path, fmt, width, height)
        img.info["reduced_from"] = (width, height)
        return img, fmt, size
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own limit is checked above
            img = Image.open(path)
            fmt = img.format or "unknown"
            img.load()
    except Image.DecompressionBombError:
        raise _too_many_pixels(path.name, *(header or (0, 0))[:2]) from None
    except UnidentifiedImageError:
        if _looks_like_text(head):
            raise ImagePreflightError(
                f"{path.name} is not an image: it contains text (the '{path.suffix}' name is misleading)"
            ) from None
        raise ImagePreflightError(
            f"{path.name} is not a readable image (unknown or corrupt data); use a JPG or PNG"
        ) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImagePreflightError(f"{path.name} is a corrupt or truncated image ({exc})") from None
    return img, fmt, size


def _has_transparency(img: Image.Image) -> bool:
    if img.mode in ("RGBA", "LA", "PA"):
        alpha = img.getchannel("A")
        return alpha.getextrema()[0] < 255
    if img.mode == "P" and "transparency" in img.info:
        return _has_transparency(img.convert("RGBA"))
    return False


def _orientation(img: Image.Image) -> int:
    try:
        return int(img.getexif().get(0x0112, 1) or 1)
    except Exception:  # unreadable EXIF is no reason to refuse a picture
        return 1


def _check_geometry(name: str, width: int, height: int) -> None:
    if width < MIN_SIDE or height < MIN_SIDE:
        raise ImagePreflightError(
            f"{name} is {width}×{height} px; Kling needs both sides to be at least {MIN_SIDE} px "
            f"(smaller images are accepted, then fail with 'Image pixel is invalid'); use a larger photo"
        )
    ratio = width / height
    if ratio > MAX_ASPECT or ratio < 1 / MAX_ASPECT:
        shown = f"{ratio:.2f}:1" if ratio >= 1 else f"1:{1 / ratio:.2f}"
        raise ImagePreflightError(
            f"{name} has an aspect ratio of {shown} ({width}×{height} px); Kling accepts 1:2.5 to 2.5:1, "
            f"so crop it closer to the face"
        )


def prepare_image(path: Path | str, *, fix: bool = False) -> PreparedImage:
    """Check `path`; return the upload bytes, converted only if `fix` allows it."""
    path = Path(path)
    img, fmt, size = _open(path, fix)
    name = path.name
    frames = getattr(img, "n_frames", 1)
    if frames > 1 and fmt in ("GIF", "WEBP"):
        raise ImagePreflightError(
            f"{name} is an animated {fmt} ({frames} frames); Kling needs one still JPG or PNG portrait"
        )
    orientation = _orientation(img)
    display_w, display_h = (img.height, img.width) if orientation in (5, 6, 7, 8) else img.size
    _check_geometry(name, display_w, display_h)

    fixes: list[str] = []  # what needs fixing, in words, for the error message
    reduced_from = img.info.get("reduced_from")
    if reduced_from:
        fixes.append(f"it is {reduced_from[0]}×{reduced_from[1]} px")
    if fmt not in _UPLOAD_FORMATS:
        if fmt not in _CONVERTIBLE:
            raise ImagePreflightError(f"{name} is a {fmt} image; Kling accepts JPG or PNG only")
        fixes.append(f"it is {fmt}, Kling accepts JPG or PNG only")
    if orientation != 1:
        fixes.append(f"its EXIF orientation says {_ORIENTATION_TEXT.get(orientation, 'rotated')}, "
                     f"which Kling ignores (the video would come out turned)")
    transparent = _has_transparency(img)
    if transparent:
        fixes.append("it has transparent pixels")
    if size > MAX_BYTES:
        fixes.append(f"it is {_mb(size)}, Kling accepts at most {_mb(MAX_BYTES)}")
    notes = []
    if max(display_w, display_h) > ADVISED_MAX_SIDE:
        notes.append(f"{display_w}×{display_h} px is more than Kling uses (≤1080p output); "
                     f"fixing it would downscale it to at most {ADVISED_MAX_SIDE} px")

    if not fixes and not (fix and notes):
        return PreparedImage(path, path.read_bytes(), fmt, display_w, display_h, notes=notes)
    if not fix:
        raise ImagePreflightError(
            f"{name} cannot be uploaded as is: {'; '.join(fixes)}",
            fixable=True, fix="convert it (the exact changes will be reported)",
        )
    return _convert(path, img, fmt, size, orientation, transparent)


def _convert(path: Path, img: Image.Image, fmt: str, size: int, orientation: int,
             transparent: bool) -> PreparedImage:
    changes: list[str] = []
    reduced_from = img.info.get("reduced_from")
    if reduced_from:
        changes.append(f"decoded {reduced_from[0]}×{reduced_from[1]} px at reduced size → {img.width}×{img.height} px")
    if orientation != 1:
        img = ImageOps.exif_transpose(img)
        changes.append(f"applied EXIF orientation {orientation} ({_ORIENTATION_TEXT.get(orientation, 'rotated')}) "
                       f"to the pixels → {img.width}×{img.height} px")
    if transparent:
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba).convert("RGB")
        changes.append("flattened transparent pixels onto white")
    elif img.mode not in ("RGB", "L"):
        img = img.convert("RGB")
    if max(img.size) > ADVISED_MAX_SIDE:
        before = img.size
        img = ImageOps.contain(img, (ADVISED_MAX_SIDE, ADVISED_MAX_SIDE), Image.LANCZOS)
        changes.append(f"downscaled {before[0]}×{before[1]} → {img.width}×{img.height} px")

    # Prefer lossless PNG; fall back to JPEG (then smaller sizes) until it fits in 10 MB.
    out_fmt = "JPEG" if fmt == "JPEG" else "PNG"
    data = _encode(img, out_fmt)
    if len(data) > MAX_BYTES and out_fmt == "PNG":
        out_fmt = "JPEG"
        data = _encode(img, out_fmt)
    while len(data) > MAX_BYTES:
        before = img.size
        img = img.resize((max(MIN_SIDE, int(img.width * 0.8)), max(MIN_SIDE, int(img.height * 0.8))),
                         Image.LANCZOS)
        changes.append(f"downscaled {before[0]}×{before[1]} → {img.width}×{img.height} px to fit 10 MB")
        data = _encode(img, out_fmt)
        if img.size == before:
            raise ImagePreflightError(f"{path.name} cannot be made smaller than 10 MB")
    quality = " (quality 92)" if out_fmt == "JPEG" else ""
    if fmt != out_fmt:
        changes.append(f"converted {fmt} → {out_fmt}{quality}")
    elif changes:
        changes.append(f"re-encoded as {out_fmt}{quality}")
    if size > MAX_BYTES or fmt != out_fmt:
        changes.append(f"file size {_mb(size)} → {_mb(len(data))}")
    _check_geometry(path.name, img.width, img.height)
    return PreparedImage(path, data, out_fmt, img.width, img.height, changes=changes)


def _encode(img: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    if fmt == "JPEG":
        img.convert("RGB").save(buf, "JPEG", quality=92, optimize=True)
    else:
        img.save(buf, "PNG", optimize=False, compress_level=6)
    return buf.getvalue()
