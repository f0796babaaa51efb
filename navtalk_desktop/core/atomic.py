"""Write outputs through a temporary sibling file and rename, so nothing half-written is ever visible."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

from .errors import OutputError


def check_output_path(path: Path) -> Path:
    """Fail early, with a specific message, if `path` cannot be written."""
    path = Path(path)
    if path.exists() and path.is_dir():
        raise OutputError(f"output path is a directory: {path}")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.exists():
        raise OutputError(f"output folder does not exist: {parent}")
    if not parent.is_dir():
        raise OutputError(f"output folder is not a folder: {parent}")
    try:  # a real write: permission bits say nothing for root or read-only mounts
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as exc:
        raise OutputError(f"output folder is not writable: {parent} ({exc.strerror or exc})") from None
    return path


def ensure_not_source(out: Path | str, *sources: Path | str | None) -> None:
    """Refuse an output that is one of the inputs (same resolved path, or the same file through a hard
    link or symlink): writing it would destroy the source before it is read."""
    out = Path(out)
    try:
        out_resolved = out.resolve()
    except OSError:
        return
    for source in sources:
        if source is None:
            continue
        source = Path(source)
        same = False
        try:
            same = source.resolve() == out_resolved or (out.exists() and source.exists()
                                                        and os.path.samefile(source, out))
        except OSError:
            same = False
        if same:
            raise OutputError(
                f"the output {out} is the input file {source}; writing it would destroy the input, "
                f"so choose another output name"
            )


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_output(path: Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to `path`; rename it into place only if the block succeeds."""
    path = check_output_path(Path(path))
    suffix = suffix if suffix is not None else path.suffix
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".part{suffix}", dir=path.parent)
    except OSError as exc:
        raise OutputError(f"cannot write in the output folder {path.parent}: {exc.strerror or exc}") from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if not tmp_path.exists() or tmp_path.stat().st_size == 0:
            raise OutputError(f"nothing was produced for {path}")
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get the user's usual mode
        os.replace(tmp_path, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()


def write_text_atomic(path: Path, text: str) -> None:
    with atomic_output(Path(path)) as tmp:
        tmp.write_text(text, encoding="utf-8")
