"""Running the ffmpeg binary that ships inside imageio-ffmpeg: no system FFmpeg needed."""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import threading
import weakref
from collections import deque
from functools import lru_cache
from typing import Callable, Iterable, Sequence

from .cancel import CancelToken, raise_if_stop_requested
from .errors import CancelledError, FFmpegError


@lru_cache(maxsize=1)
def ffmpeg_exe() -> str:
    """The ffmpeg to run: NAVTALK_FFMPEG, IMAGEIO_FFMPEG_EXE, else imageio-ffmpeg's own binary.

    imageio-ffmpeg checks its binary by running `ffmpeg -version` in every process (~10 ms of every
    command). Here that check is the version line's own run, remembered per binary in the cache folder
    (version_line), so a binary that ran before is used without asking again."""
    override = os.environ.get("NAVTALK_FFMPEG") or os.environ.get("IMAGEIO_FFMPEG_EXE")
    if override:
        return override
    bundled = _bundled_exe()
    if bundled is not None and (_stored_version(bundled) is not None or _ask_version(bundled)):
        return bundled  # it ran before, or it just did (and is remembered now)
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()  # conda's or the system's ffmpeg, when the wheel's cannot run


def _bundled_exe() -> str | None:
    """The binary inside the imageio-ffmpeg wheel, where that release keeps it (None: not found)."""
    try:
        from imageio_ffmpeg._definitions import FNAME_PER_PLATFORM, get_platform
        from imageio_ffmpeg._utils import _get_bin_dir

        exe = os.path.join(_get_bin_dir(), FNAME_PER_PLATFORM.get(get_platform(), ""))
    except Exception:  # noqa: BLE001 - another imageio-ffmpeg layout: its own lookup decides
        return None
    return exe if os.path.isfile(exe) and os.access(exe, os.X_OK) else None


@lru_cache(maxsize=1)
def has_loopback_decoder() -> bool:
    """Whether this ffmpeg decodes its own encoder's output in the same run (`-dec`, FFmpeg >= 7.1).
    `NAVTALK_FFMPEG` or an older imageio-ffmpeg may point at an older build; a version this cannot read
    counts as too old (the caller then decodes the file instead)."""
    import re

    match = re.match(r"ffmpeg version n?(\d+)\.(\d+)", version_line())
    return bool(match) and (int(match.group(1)), int(match.group(2))) >= (7, 1)


@lru_cache(maxsize=1)
def version_line() -> str:
    """The first line of `ffmpeg -version` ("" if it cannot run). Remembered in the cache folder per binary
    (path, size, modification time): asking costs a process start, 10-30 ms of every command."""
    exe = ffmpeg_exe()
    known = _stored_version(exe)
    return known if known is not None else _ask_version(exe)


def _binary_key(exe: str) -> str | None:
    try:
        st = os.stat(exe)
    except OSError:
        return None
    return f"{os.path.abspath(exe)}|{st.st_size}|{st.st_mtime_ns}"


def _version_store():
    from .app_paths import cache_dir

    return cache_dir() / "ffmpeg-version.json"


def _stored_version(exe: str) -> str | None:
    """The version line remembered for this very binary, or None."""
    import json

    key = _binary_key(exe)
    if key is None:
        return None
    try:
        known = json.loads(_version_store().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(known, dict) and known.get("binary") == key and isinstance(known.get("version"), str):
        return known["version"]
    return None


def _ask_version(exe: str) -> str:
    """Run `exe -version`; remember its first line for this binary when it printed one."""
    try:
        out = subprocess.run([exe, "-hide_banner", "-version"], capture_output=True, text=True,
                             errors="replace", timeout=10, env=clean_env()).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    line = out.splitlines()[0] if out else ""
    key = _binary_key(exe)
    if key is not None and line:
        try:
            from .atomic import write_json_atomic
            from .errors import OutputError

            write_json_atomic(_version_store(), {"binary": key, "version": line})
        except (OSError, OutputError):
            pass  # a read-only cache: ask again next time
    return line


def clean_env() -> dict[str, str]:
    """Environment for child processes: a frozen build's library paths must not leak into ffmpeg."""
    env = dict(os.environ)
    if getattr(sys, "frozen", False):
        for key in ("LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH"):
            original = env.pop(key + "_ORIG", None)
            if original is not None:
                env[key] = original
            else:
                env.pop(key, None)
    return env


# --- ffmpeg dies with us ---------------------------------------------------------------------------------------
# A killed export must not leave an orphaned ffmpeg encoding (docs/robustness.md):
# - Linux: PR_SET_PDEATHSIG (set by setpriv before it execs ffmpeg) makes the kernel send SIGKILL to ffmpeg
#   when the thread that started it dies, even on SIGKILL of this process. (Per thread: ffmpeg must be waited for in the thread that started it,
#   as every caller here does.)
# - Windows: every child joins one Job object with KILL_ON_JOB_CLOSE; the kernel closes the handle when this
#   process dies in any way. Written from the Win32 documentation, not tested here.
# - macOS (and everywhere, as a fallback): live children are killed at interpreter exit, which the CLI's
#   SIGTERM handler reaches; a SIGKILL on macOS can still orphan ffmpeg (no kernel mechanism as cheap).
_live_children: "weakref.WeakSet[subprocess.Popen]" = weakref.WeakSet()


@lru_cache(maxsize=1)
def _linux_death_binding() -> list[str]:
    """The prefix that sets PR_SET_PDEATHSIG in the child before it execs ffmpeg: util-linux's setpriv.

    Not a preexec_fn: Python code run between fork and exec in a process with threads (the studio's
    workers) can deadlock on a lock another thread held at fork (seen: PyOS_AfterFork_Child waiting
    forever). setpriv sets the signal and execs ffmpeg in place (same pid, same parent thread).
    Without setpriv, ffmpeg is still killed at exit and by the stale-partial sweep (docs/robustness.md).
    """
    import shutil

    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--"] if setpriv else []


_win_job = None


def _windows_job(proc: subprocess.Popen) -> None:  # pragma: no cover - Windows only, untested here
    global _win_job
    import ctypes
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    if _win_job is None:
        class _Limits(ctypes.Structure):
            _fields_ = [("PerProcessUserTimeLimit", ctypes.c_int64), ("PerJobUserTimeLimit", ctypes.c_int64),
                        ("LimitFlags", wintypes.DWORD), ("MinimumWorkingSetSize", ctypes.c_size_t),
                        ("MaximumWorkingSetSize", ctypes.c_size_t), ("ActiveProcessLimit", wintypes.DWORD),
                        ("Affinity", ctypes.c_size_t), ("PriorityClass", wintypes.DWORD),
                        ("SchedulingClass", wintypes.DWORD)]

        class _Io(ctypes.Structure):
            _fields_ = [(name, ctypes.c_uint64) for name in ("r", "w", "o", "rb", "wb", "ob")]

        class _Extended(ctypes.Structure):
            _fields_ = [("BasicLimitInformation", _Limits), ("IoInfo", _Io), ("ProcessMemoryLimit", ctypes.c_size_t),
                        ("JobMemoryLimit", ctypes.c_size_t), ("PeakProcessMemoryUsed", ctypes.c_size_t),
                        ("PeakJobMemoryUsed", ctypes.c_size_t)]

        job = kernel32.CreateJobObjectW(None, None)
        info = _Extended()
        info.BasicLimitInformation.LimitFlags = 0x2000  # JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
        kernel32.SetInformationJobObject(job, 9, ctypes.byref(info), ctypes.sizeof(info))  # ExtendedLimitInformation
        _win_job = job
    kernel32.AssignProcessToJobObject(_win_job, wintypes.HANDLE(int(proc._handle)))


@atexit.register
def _kill_live_children() -> None:
    for proc in list(_live_children):
        if proc.poll() is None:
            proc.kill()


def popen(args: Sequence[str], **kwargs) -> subprocess.Popen:
    """Start ffmpeg with `args` (without the program name); it dies when this process dies."""
    creationflags = 0
    if sys.platform == "win32":  # no console window flashing in the windowed build
        creationflags = getattr(subprocess, "CREATE_NO_WINDOW", 0)
    prefix = _linux_death_binding() if sys.platform.startswith("linux") else []
    proc = subprocess.Popen(
        [*prefix, ffmpeg_exe(), "-hide_banner", "-nostdin", *args],
        env=clean_env(),
        creationflags=creationflags,
        **kwargs,
    )
    if sys.platform == "win32":  # pragma: no cover
        try:
            _windows_job(proc)
        except OSError:
            pass
    _live_children.add(proc)
    return proc


def run(
    args: Sequence[str],
    *,
    total_frames: int | None = None,
    on_progress: Callable[[float], None] | None = None,
    cancel: CancelToken | None = None,
    what: str = "ffmpeg",
    stdin_frames: Iterable | None = None,
    pass_fds: Sequence[int] = (),
    on_started: Callable[[], None] | None = None,
) -> None:
    """Run ffmpeg to completion, reporting progress (0..1) from `-progress` and honouring `cancel`.

    `stdin_frames` (arrays or bytes) are written to ffmpeg's stdin from a thread, for an input `-i pipe:0`;
    an error raised while producing them stops ffmpeg and is raised here. `pass_fds`: descriptors ffmpeg
    inherits (an output `pipe:N`, POSIX); `on_started` runs once ffmpeg has started (even if it fails to:
    then before the error is raised), e.g. to close this process' copy of such a pipe's write end.
    """
    try:
        proc = popen(
            ["-progress", "pipe:1", "-nostats", "-loglevel", "error", *args],
            stdin=subprocess.PIPE if stdin_frames is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            **({"pass_fds": tuple(pass_fds)} if pass_fds else {}),
        )
    finally:
        if on_started is not None:
            on_started()
    stderr_tail: deque[str] = deque(maxlen=30)
    feed_error: list[BaseException] = []

    def _feed() -> None:
        assert proc.stdin is not None
        stdin = proc.stdin.buffer if hasattr(proc.stdin, "buffer") else proc.stdin
        try:
            for frame in stdin_frames:
                stdin.write(frame if isinstance(frame, bytes) else frame.tobytes())
        except (BrokenPipeError, ValueError, OSError):
            pass  # ffmpeg stopped (killed on cancel, or failed): its exit code tells why
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            feed_error.append(exc)
            proc.kill()
        finally:
            try:
                proc.stdin.close()
            except OSError:
                pass

    feeder = threading.Thread(target=_feed, daemon=True) if stdin_frames is not None else None
    if feeder:
        feeder.start()

    def _drain() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            stderr_tail.append(line.rstrip())

    drainer = threading.Thread(target=_drain, daemon=True)
    drainer.start()
    watcher_stop = threading.Event()

    def _watch_cancel() -> None:
        while not watcher_stop.wait(0.05):
            if cancel is not None and cancel.cancelled and proc.poll() is None:
                proc.kill()
                return

    watcher = threading.Thread(target=_watch_cancel, daemon=True)
    watcher.start()
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            key, _, value = line.strip().partition("=")
            if key == "frame" and total_frames and on_progress:
                try:
                    on_progress(min(1.0, int(value) / total_frames))
                except ValueError:
                    pass
        proc.wait()
    except BaseException:  # SystemExit from SIGTERM, KeyboardInterrupt, a failing progress callback
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        raise
    finally:
        watcher_stop.set()
        if feeder:
            if proc.poll() is None:
                proc.kill()
            feeder.join(timeout=10)
        drainer.join(timeout=5)
    raise_if_stop_requested()
    if cancel is not None and cancel.cancelled:
        raise CancelledError(f"{what} cancelled")
    if feed_error:
        raise feed_error[0]
    if proc.returncode != 0:
        if any("No space left on device" in line for line in stderr_tail):
            raise FFmpegError(f"{what} failed: no space left on the disk (free some space, or write it elsewhere)")
        tail = "\n".join(stderr_tail) or f"exit code {proc.returncode}"
        raise FFmpegError(f"{what} failed: {tail}")
    if on_progress:
        on_progress(1.0)
