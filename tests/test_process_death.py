"""A killed export leaves no ffmpeg running and no partial file for long (real signals, real processes)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_cli import run_cli

from navtalk_desktop.core.atomic import STALE_PARTIAL_S, is_partial_name, remove_stale_partials

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; Linux process death")


def descendants(pid: int) -> set[int]:
    """All live descendants of `pid`, from /proc (children of every thread)."""
    found, todo = set(), [pid]
    while todo:
        p = todo.pop()
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                kids = (task / "children").read_text().split()
            except OSError:
                continue
            for k in map(int, kids):
                if k not in found:
                    found.add(k)
                    todo.append(k)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def start_long_export(source: Path, out: Path) -> subprocess.Popen:
    # VP9 of a 9 s ping-pong: several seconds of encoding on this machine, time enough to kill it mid-way.
    return subprocess.Popen([sys.executable, "-m", "navtalk_desktop.cli.main", "export", str(source), "--out", str(out),
                             "--frame", "100", "--strategy", "pingpong", "--duration", "8.5"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=os.environ.copy())


def wait_for_encoder(proc: subprocess.Popen, folder: Path, timeout: float = 120) -> int:
    """The pid of the encoding ffmpeg, once it runs and its hidden partial file exists."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read().decode()
        encoders = [k for k in descendants(proc.pid) if "-filter_complex" in cmdline(k)]
        partials = [p for p in folder.iterdir() if is_partial_name(p.name)]
        if encoders and partials:
            return encoders[0]
        time.sleep(0.05)
    raise AssertionError("the export never reached its encode")


def wait_dead(pid: int, timeout: float = 5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def warm_source(fixtures_dir, tmp_path):
    """A source whose landmarks are cached, so the export reaches its encode quickly."""
    source = fixtures_dir / "liveportrait_d18.mp4"
    assert run_cli("analyze", source).returncode == 0
    return source


def test_sigkill_mid_encode_kills_ffmpeg_and_the_next_run_removes_the_partial(warm_source, tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    proc = start_long_export(warm_source, out_dir / "loop.webm")
    encoder = wait_for_encoder(proc, out_dir)
    time.sleep(1.0)  # well inside the encode (it takes several seconds)
    assert alive(encoder)
    proc.kill()
    proc.wait()
    survived = not wait_dead(encoder)
    if survived:  # don't leave it encoding for the rest of the session
        os.kill(encoder, signal.SIGKILL)
    assert not survived, f"ffmpeg {encoder} survived its parent: {cmdline(encoder)}"
    partials = [p for p in out_dir.iterdir() if is_partial_name(p.name)]
    assert len(partials) == 1 and not (out_dir / "loop.webm").exists()  # SIGKILL cannot clean; the next run does

    # A fresh partial may belong to a run still going: it stays. Once it is older than a few minutes it goes.
    assert run_cli("analyze", warm_source, "-o", out_dir / "summary.txt").returncode == 0
    assert partials[0].exists()
    old = time.time() - STALE_PARTIAL_S - 60
    os.utime(partials[0], (old, old))
    proc = run_cli("analyze", warm_source, "-o", out_dir / "summary.txt")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in out_dir.iterdir()) == ["summary.txt"]


def test_sigterm_mid_encode_kills_ffmpeg_and_removes_the_partial_at_once(warm_source, tmp_path):
    proc = start_long_export(warm_source, tmp_path / "loop.webm")
    encoder = wait_for_encoder(proc, tmp_path)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 128 + signal.SIGTERM
    assert "terminated" in proc.stderr.read().decode()
    assert wait_dead(encoder)
    assert list(tmp_path.iterdir()) == []


def test_only_this_apps_old_partials_are_swept(tmp_path):
    old = time.time() - STALE_PARTIAL_S - 1
    names = {".loop.k3j_x9ab.part.mp4": True, ".clip.Ab12Cd34.part.json": True, ".a.b.xxxxxxxx.part": True,
             ".loop.short.part.mp4": False, "loop.k3j_x9ab.part.mp4": False, ".bashrc": False, "video.mp4": False,
             ".generated.mp4.part": False}  # the last: a resumable Kling download, never swept
    for name in names:
        (tmp_path / name).write_text("x")
        os.utime(tmp_path / name, (old, old))
    (tmp_path / ".fresh.abcdefgh.part.mp4").write_text("a run still writing")
    removed = {p.name for p in remove_stale_partials(tmp_path)}
    assert removed == {n for n, swept in names.items() if swept}
    assert (tmp_path / ".fresh.abcdefgh.part.mp4").exists()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the swallowed one
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_stop_swallowed_in_a_weakref_callback_still_stops_the_export(warm_source, tmp_path, monkeypatch, signum):
    """A signal's exception raised while Python runs a weakref callback is printed ("Exception ignored") and
    dropped. The handler remembers the stop, and the export raises it again before anything appears."""
    import weakref

    from navtalk_desktop.cli import main as cli
    from navtalk_desktop.core import export

    real_inspect = export.inspect_loop

    class Thing:
        pass

    def inspect_then_signal(*a, **k):
        report = real_inspect(*a, **k)
        thing = Thing()
        handler = cli._interrupt if signum == signal.SIGINT else cli._terminate
        keep = weakref.ref(thing, lambda _ref: handler(signum, None))  # noqa: F841 - the callback fires on del
        del thing  # the handler runs inside the callback: its exception is swallowed here
        return report

    monkeypatch.setattr(export, "inspect_loop", inspect_then_signal)
    out = tmp_path / "loop.mp4"
    argv = ["export", str(warm_source), "--out", str(out), "--strategy", "pingpong", "--at", "3.2"]
    if signum == signal.SIGINT:
        assert cli.main(argv) == 130
    else:
        with pytest.raises(SystemExit) as stopped:
            cli.main(argv)
        assert stopped.value.code == 128 + signal.SIGTERM
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no loop, no sidecar, no partial
    monkeypatch.setattr(export, "inspect_loop", real_inspect)
    assert cli.main(argv) == 0 and out.exists()  # the next command is not stopped by the last one's signal
