"""Write outputs through a temporary sibling file and rename, so nothing half-written is ever visible."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Iterator

from .cancel import raise_if_stop_requested
from .errors import OutputError

log = logging.getLogger(__name__)

# mkstemp's names for our partial files: ".<stem>.<8 random chars>.part<suffix>"
_PARTIAL_NAME = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.part(\.[A-Za-z0-9]+)?$")
STALE_PARTIAL_S = 5 * 60  # a live write touches its partial continuously; one this old belongs to a killed run


def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)  # hard links, symlinks, case-insensitive names
    except OSError:
        pass
    return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))


def ensure_not_source(out: Path | str, *sources: Path | str | None, what: str = "output",
                      role: str = "input file", short: str = "input") -> Path:
    """Refuse an output that is one of the inputs (same resolved path or same file): it would overwrite it.
    `role`/`short`: what the input is called (the input's own sidecar, say)."""
    out = Path(out)
    for source in sources:
        if source is not None and _same_file(out, Path(source)):
            via = "" if os.path.abspath(out) == os.path.abspath(source) else " (the same file under another name)"
            raise OutputError(f"the {what} {out} is the {role} {source}{via}; writing it would overwrite the "
                              f"{short}, so choose another output name")
    return out


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


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _partial_beside(path: Path, suffix: str) -> tuple[int, Path]:
    """A new hidden partial file next to `path` (".<stem>.XXXXXXXX.part<suffix>", _PARTIAL_NAME): fd, path."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".part{suffix}", dir=path.parent)
    except OSError as exc:
        raise OutputError(f"cannot write in the output folder {path.parent}: {exc.strerror or exc}") from None
    return fd, Path(tmp)


@contextlib.contextmanager
def atomic_output(path: Path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to `path`; rename it into place only if the block succeeds."""
    path = check_output_path(Path(path))
    remove_stale_partials(path.parent)
    fd, tmp_path = _partial_beside(path, suffix if suffix is not None else path.suffix)
    os.close(fd)
    try:
        yield tmp_path
        if not tmp_path.exists() or tmp_path.stat().st_size == 0:
            raise OutputError(f"nothing was produced for {path}")
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; outputs get the user's usual mode
        raise_if_stop_requested()  # a Ctrl+C whose KeyboardInterrupt was swallowed on the way: no output
        os.replace(tmp_path, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()


def stage_text(path: Path, text: str) -> Path:
    """`text` in a partial file beside `path` (a name remove_stale_partials knows), for the caller to rename into
    place (os.replace) when it is time; a full disk or an unwritable folder is an OutputError, and nothing is
    left behind."""
    path = Path(path)
    fd, tmp = _partial_beside(path, path.suffix)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o666 & ~_umask())
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise OutputError(f"cannot write {path.name} in {path.parent}: {exc.strerror or exc}") from None
    return Path(tmp)


def file_identity(path: Path) -> tuple[int, int] | None:
    """(inode, mtime) of `path`, None when there is none: tells a file just renamed into place from the old one."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns


def write_text_atomic(path: Path, text: str) -> None:
    with atomic_output(Path(path)) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json_atomic(path: Path, data) -> None:
    """Strict JSON (RFC 8259: no NaN/Infinity) through a temporary file."""
    from .strict_json import dumps

    write_text_atomic(path, dumps(data) + "\n")


def is_partial_name(name: str) -> bool:
    return bool(_PARTIAL_NAME.match(name))


def remove_stale_partials(folder: Path | str, max_age_s: float = STALE_PARTIAL_S) -> list[Path]:
    """Delete this app's hidden partial files in `folder` left by a killed run (older than `max_age_s`)."""
    removed = []
    now = time.time()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        if not (entry.name.startswith(".") and ".part" in entry.name and _PARTIAL_NAME.match(entry.name)):
            continue
        try:
            if not entry.is_file(follow_symlinks=False) or now - entry.stat().st_mtime < max_age_s:
                continue
            os.unlink(entry.path)
        except OSError:
            continue
        log.info("removed a stale partial file %s", entry.path)
        removed.append(Path(entry.path))
    return removed
