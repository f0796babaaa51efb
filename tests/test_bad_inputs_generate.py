"""`navtalk-loop generate` with bad input, table-driven: each case asserts the exit code, a message that
names the problem, no traceback, and that no file in the working folder was written or changed.

Every case fails before any request (the base URL is a closed loopback port, so a request would show up
as "cannot reach" instead of the expected message)."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from kling_helpers import isolated_dirs, portrait_320  # noqa: F401
from navtalk_desktop.cli.main import main


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def write_huge_png(path: Path, width: int, height: int) -> None:
    """A valid grey PNG of width×height px in a few hundred KB, written without the pixels in memory."""
    comp = zlib.compressobj(9)
    row = b"\x00" * (width + 1)  # filter byte + one byte per grey pixel
    parts = [comp.compress(row) for _ in range(height)]
    parts.append(comp.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", b"".join(parts))
                     + _png_chunk(b"IEND", b""))


def _snapshot(folder: Path) -> dict[str, tuple[int, str]]:
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file() and not p.is_symlink():
            out[str(p.relative_to(folder))] = (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
        elif p.is_symlink():
            out[str(p.relative_to(folder))] = (0, os.readlink(p))
    return out


def _case_same_path(work, portrait):
    return [str(portrait), "--out", str(portrait)]


def _case_same_path_spelled_differently(work, portrait):
    return [str(portrait), "--out", str(work / "." / portrait.name)]


def _case_hard_link(work, portrait):
    link = work / "link.png"
    os.link(portrait, link)
    return [str(portrait), "--out", str(link)]


def _case_symlink(work, portrait):
    link = work / "alias.mp4"
    link.symlink_to(portrait)
    return [str(portrait), "--out", str(link)]


def _case_bomb(work, portrait):
    big = work / "huge.png"
    write_huge_png(big, 15000, 15000)
    return [str(big), "--out", str(work / "o.mp4")]


DATA_URI = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"X" * 300).decode()


def _case_just_over_the_pixel_limit(work, portrait):
    """90 MP: Pillow itself would only warn and decode it whole; the header check refuses it first."""
    big = work / "big.png"
    write_huge_png(big, 10000, 9000)
    return [str(big), "--out", str(work / "o.mp4")]


def _case_data_uri(work, portrait):
    return [DATA_URI, "--out", str(work / "o.mp4")]


def _case_negative_timeout(work, portrait):
    return [str(portrait), "--out", str(work / "o.mp4"), "--timeout", "-1"]


def _case_nan_timeout(work, portrait):
    return [str(portrait), "--out", str(work / "o.mp4"), "--timeout", "nan"]


def _case_missing_image(work, portrait):
    return [str(work / "nope.png"), "--out", str(work / "o.mp4")]


def _case_text_as_png(work, portrait):
    fake = work / "notes.png"
    fake.write_text("just some words, not a picture\n" * 20)
    return [str(fake), "--out", str(work / "o.mp4")]


def _case_tiny_image(work, portrait):
    tiny = work / "tiny.png"
    Image.new("RGB", (120, 120), (200, 150, 120)).save(tiny)
    return [str(tiny), "--out", str(work / "o.mp4")]


def _case_missing_out_folder(work, portrait):
    return [str(portrait), "--out", str(work / "no" / "such" / "dir" / "o.mp4")]


def _case_out_is_a_folder(work, portrait):
    (work / "folder.mp4").mkdir()
    return [str(portrait), "--out", str(work / "folder.mp4")]


def _case_bad_duration(work, portrait):
    return [str(portrait), "--out", str(work / "o.mp4"), "--model", "kling-v1", "--duration", "7"]


CASES = [
    # (id, argument builder, exit code, words the message must contain)
    ("out-equals-image", _case_same_path, 1, ["is the input file", "choose another output name"]),
    ("out-equals-image-other-spelling", _case_same_path_spelled_differently, 1, ["is the input file"]),
    ("out-is-a-hard-link-to-image", _case_hard_link, 1, ["is the input file"]),
    ("out-is-a-symlink-to-image", _case_symlink, 1, ["is the input file"]),
    ("15000x15000-png", _case_bomb, 1, ["the image is 15000×15000 px; Kling accepts at most 10.0 MB",
                                         "Run again with --fix to scale it"]),
    ("90-megapixel-png", _case_just_over_the_pixel_limit, 1, ["the image is 10000×9000 px", "--fix"]),
    ("data-uri-as-image", _case_data_uri, 1, ["data: URI", "save the picture as a JPG or PNG file"]),
    ("negative-timeout", _case_negative_timeout, 2, ["--timeout", "must be a number of minutes above 0"]),
    ("nan-timeout", _case_nan_timeout, 2, ["--timeout", "must be a number of minutes above 0"]),
    ("missing-image", _case_missing_image, 1, ["image not found", "nope.png"]),
    ("text-named-png", _case_text_as_png, 1, ["notes.png is not an image: it contains text"]),
    ("image-under-300-px", _case_tiny_image, 1, ["120×120 px", "at least 300 px"]),
    ("out-folder-missing", _case_missing_out_folder, 1, ["output folder does not exist"]),
    ("out-is-a-folder", _case_out_is_a_folder, 1, ["output path is a directory"]),
    ("duration-the-model-lacks", _case_bad_duration, 1, ["kling-v1", "7"]),
]


@pytest.mark.parametrize("build,code,words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_generate_bad_input(build, code, words, portrait_320, isolated_dirs, tmp_path, capsys):
    work = tmp_path / "work"
    work.mkdir()
    portrait = work / "portrait.png"
    portrait.write_bytes(Path(portrait_320).read_bytes())
    args = build(work, portrait)
    before = _snapshot(work)
    try:
        got = main(["generate", *args, "--base-url", f"http://127.0.0.1:{_closed_port()}"])
    except SystemExit as exc:  # argparse refuses bad option values itself
        got = exc.code
    err = capsys.readouterr().err
    print(f"MESSAGE {err.strip().splitlines()[-1]}")
    assert got == code, err
    for word in words:
        assert word in err, err
    assert "Traceback" not in err and "cannot reach" not in err  # refused locally, nothing sent
    assert _snapshot(work) == before  # nothing written or changed, the portrait least of all
    assert DATA_URI[30:90] not in err  # never echoes inline base64
