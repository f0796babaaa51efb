"""The installer build: `bash packaging/build.sh` makes a onedir bundle that works with no Python and no network.

The session fixture builds the bundle once (about 80 s on 2 cores) into a temporary folder; the tests run
its two programs the way an operator would: a fresh home folder, no virtualenv on PATH, no display (Qt
offscreen) or Xvfb for OpenGL, and no network at all (a private network namespace via `unshare -rn`
where the machine allows it). `NAVTALK_FROZEN_APP=dist/navtalk-studio` reuses an existing build instead.

The self-test itself is also run unfrozen, so the checks stay correct while the app grows.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

import pytest

from navtalk_desktop import selftest
from navtalk_desktop.core import media

ROOT = Path(__file__).resolve().parents[1]
BUILD_TIMEOUT_S = 1200
RUN_TIMEOUT_S = 300
# The bundle is ~780 MB (ffmpeg alone 173 MB, OpenCV 172 MB, Qt 100 MB). jax/jaxlib would add ~360 MB:
# this limit catches them (or another large dependency) slipping back in.
MAX_BUNDLE_MB = 900
EXPECTED_CHECKS = {"bundle", "face_mesh", "ffmpeg", "espeak", "portaudio", "keyring", "main_window", "gl"}
LINUX = sys.platform.startswith("linux")
EXE_SUFFIX = ".exe" if sys.platform == "win32" else ""

TEST_TIMEOUT_S = BUILD_TIMEOUT_S + 600  # the first frozen test also waits for the build


# --- helpers ------------------------------------------------------------------------------------------------
def _folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6


def _largest(folder: Path, count: int = 8) -> list[tuple[str, float]]:
    sizes = [(p.name, _folder_mb(p) if p.is_dir() else p.lstat().st_size / 1e6) for p in folder.iterdir()]
    return sorted(sizes, key=lambda item: -item[1])[:count]


def _operator_env(home: Path, platform: str = "offscreen") -> dict:
    """What a fresh operator account has: no venv, no NAVTALK_* overrides, no display, no library paths."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("NAVTALK_", "XDG_", "PYTHON", "QT_", "LD_LIBRARY_PATH"))
           and key not in ("DISPLAY", "WAYLAND_DISPLAY", "VIRTUAL_ENV")}
    venv_bin = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "/usr/bin:/bin").split(os.pathsep) if p != venv_bin)
    env.update(HOME=str(home), QT_QPA_PLATFORM=platform, GLOG_minloglevel="2", TF_CPP_MIN_LOG_LEVEL="2")
    home.mkdir(parents=True, exist_ok=True)
    return env


def _offline_prefix() -> list[str]:
    """`unshare -rn`: the program runs with no network interface at all (not even a route to a proxy)."""
    if LINUX and shutil.which("unshare"):
        probe = subprocess.run(["unshare", "-rn", "true"], capture_output=True)
        if probe.returncode == 0:
            return ["unshare", "-rn"]
    return []


# Where user namespaces are not allowed, HTTP clients (httpx, urllib, edge-tts' aiohttp) still honour these: any
# download would go to a closed loopback port and fail, so the tests would notice it.
DEAD_PROXY = {name: "http://127.0.0.1:9" for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy",
                                                      "https_proxy", "all_proxy")}


def _run(command: list[str], env: dict, cwd: Path, offline: bool = True) -> subprocess.CompletedProcess:
    prefix = _offline_prefix() if offline else []
    if offline and not prefix:
        env = {**env, **DEAD_PROXY, "NO_PROXY": "", "no_proxy": ""}
    return subprocess.run([*prefix, *command], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=RUN_TIMEOUT_S)


def _report(proc: subprocess.CompletedProcess) -> dict:
    assert proc.stdout.strip().startswith("{"), f"no JSON on stdout:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return json.loads(proc.stdout)


def _failed(report: dict) -> dict:
    return {name: check for name, check in report["checks"].items() if not check["ok"]}


# --- the build ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def frozen_app(tmp_path_factory) -> Path:
    prebuilt = os.environ.get("NAVTALK_FROZEN_APP")
    if prebuilt:
        yield Path(prebuilt).resolve()
        return
    base = tmp_path_factory.mktemp("frozen")
    started = time.monotonic()
    proc = subprocess.run(["bash", str(ROOT / "packaging" / "build.sh"), "--distpath", str(base / "dist"),
                           "--workpath", str(base / "build")], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHON": sys.executable}, timeout=BUILD_TIMEOUT_S)
    assert proc.returncode == 0, f"build failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    print(f"\nPyInstaller build: {time.monotonic() - started:.0f} s")
    yield base / "dist" / "navtalk-studio"
    shutil.rmtree(base, ignore_errors=True)  # ~1.5 GB of bundle and build cache


@pytest.fixture(scope="session")
def frozen_demo(frozen_app, tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path, Path]:
    """`navtalk-loop demo` from the bundle, offline, in a fresh home: (process, output folder, home)."""
    work = tmp_path_factory.mktemp("frozen-demo")
    home = work / "home"
    proc = _run([str(frozen_app / f"navtalk-loop{EXE_SUFFIX}"), "demo", "--out-dir", str(work / "out")],
                _operator_env(home), cwd=work)
    return proc, work / "out", home


# --- the frozen bundle ----------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.timeout(TEST_TIMEOUT_S)
def test_bundle_holds_what_runs_and_leaves_out_what_does_not(frozen_app):
    internal = frozen_app / "_internal"
    for program in ("navtalk-studio", "navtalk-loop"):
        assert (frozen_app / f"{program}{EXE_SUFFIX}").is_file(), program
    needed = [
        "resources/sample_portrait.png",
        "mediapipe/modules/face_landmark/face_landmark_front_cpu.binarypb",
        "mediapipe/modules/face_landmark/face_landmark_with_attention.tflite",
        "mediapipe/modules/face_detection/face_detection_short_range.tflite",
        "espeakng_loader/espeak-ng-data/phontab",
        "espeakng_loader/espeak-ng-data/en_dict",
        "phonemizer/share/segments",
        "icons/navtalk-studio.png",
    ]
    for relative in needed:
        assert (internal / relative).exists(), f"missing from the bundle: {relative}"
    assert list((internal / "imageio_ffmpeg" / "binaries").glob("ffmpeg*")), "no ffmpeg binary in the bundle"
    assert list(internal.glob("navtalk_desktop*-info")), "package metadata (version) not bundled"
    if LINUX:
        assert list(internal.glob("libportaudio.so*")), "PortAudio not bundled (apt-get install libportaudio2)"
        assert list(internal.glob("espeakng_loader/libespeak-ng.so*"))
        plugins = internal / "PySide6" / "Qt" / "plugins"
        for plugin in ("platforms/libqxcb.so", "platforms/libqoffscreen.so", "platforms/libqwayland.so",
                       "xcbglintegrations/libqxcb-glx-integration.so"):
            assert (plugins / plugin).is_file(), f"Qt plugin missing: {plugin}"
        assert not (plugins / "platforms" / "libqeglfs.so").exists()
    # Left out: jax/jaxlib, test data, samples, unused models and Qt translations.
    for unwanted in ("jax", "jaxlib", "PySide6/Qt/translations", "matplotlib/mpl-data/sample_data",
                     "mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite",
                     "mediapipe/modules/pose_landmark", "mediapipe/modules/hand_landmark"):
        assert not (internal / unwanted).exists(), f"should not be bundled: {unwanted}"
    test_dirs = [p for p in internal.rglob("*") if p.is_dir() and p.name in ("tests", "testdata", "test_data")]
    assert not test_dirs, f"test data bundled: {test_dirs[:5]}"
    size = _folder_mb(frozen_app)
    print(f"\nbundle {frozen_app}: {size:.0f} MB; largest: "
          + ", ".join(f"{name} {mb:.0f} MB" for name, mb in _largest(internal)))
    assert size < MAX_BUNDLE_MB, f"bundle grew to {size:.0f} MB"


@pytest.mark.slow
@pytest.mark.timeout(TEST_TIMEOUT_S)
def test_frozen_self_test_passes_offscreen_and_offline(frozen_app, tmp_path):
    out = tmp_path / "report.json"
    env = _operator_env(tmp_path / "home")
    proc = _run([str(frozen_app / f"navtalk-studio{EXE_SUFFIX}"), "--self-test", "--out", str(out)], env, tmp_path)
    report = _report(proc)
    assert proc.returncode == 0, f"failed checks: {json.dumps(_failed(report), indent=1)}\n{proc.stderr[-3000:]}"
    assert report["ok"] and report["frozen"] is True
    assert set(report["checks"]) == EXPECTED_CHECKS and not _failed(report)
    assert Path(report["bundle"]).resolve() == (frozen_app / "_internal").resolve()
    assert report["version"] == version("navtalk-desktop")  # read from the bundled metadata
    assert json.loads(out.read_text()) == report
    checks = report["checks"]
    assert checks["bundle"]["child_env_clean"] and checks["bundle"]["resources_in_bundle"]
    assert checks["bundle"]["std_streams"] == {"stdout": "ok", "stderr": "ok"}
    assert checks["face_mesh"]["models_in_bundle"] and checks["face_mesh"]["landmarks"] == 478
    assert checks["ffmpeg"]["exe_in_bundle"] and checks["ffmpeg"]["loop_frames"] == 20
    assert checks["espeak"]["library_in_bundle"] and checks["espeak"]["data_in_bundle"]
    if LINUX:
        assert checks["portaudio"]["library_in_bundle"], checks["portaudio"]
    if LINUX:
        assert "keyring.backends.SecretService.Keyring" in checks["keyring"]["known_backends"]
    assert checks["main_window"]["title"].startswith("NavTalk Loop Studio")
    assert checks["gl"]["platform"] == "offscreen" and "skipped" in checks["gl"]
    # The self-test keeps to its own temporary folders: nothing lands in the operator's home.
    assert not any((tmp_path / "home").rglob("navtalk_desktop"))
    print(f"\nfrozen self-test: {report['seconds']:.1f} s, "
          + ", ".join(f"{name} {c['seconds']:.2f} s" for name, c in checks.items()))


@pytest.mark.slow
@pytest.mark.timeout(TEST_TIMEOUT_S)
@pytest.mark.skipif(not LINUX, reason="Xvfb is a Linux X server")
def test_frozen_opengl_preview_under_xvfb(frozen_app, tmp_path):
    env = _operator_env(tmp_path / "home", platform="xcb")
    proc = _run(["xvfb-run", "-a", "-s", "-screen 0 1280x1024x24", str(frozen_app / "navtalk-studio"),
                 "--self-test"], env, tmp_path, offline=False)
    report = _report(proc)
    assert proc.returncode == 0, f"failed checks: {json.dumps(_failed(report), indent=1)}\n{proc.stderr[-3000:]}"
    gl = report["checks"]["gl"]
    assert report["qt_platform"] == "xcb"
    assert "skipped" not in gl and gl["ok"], gl
    assert gl["pixel"] == list(selftest.GL_TEST_COLOUR) and gl["renderer"], gl


@pytest.mark.slow
@pytest.mark.timeout(TEST_TIMEOUT_S)
def test_frozen_cli_demo_makes_a_loop_offline(frozen_app, frozen_demo):
    proc, out_dir, home = frozen_demo
    assert proc.returncode == 0, f"{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    loop = out_dir / "loop.mp4"
    sidecar = json.loads((out_dir / "loop.mp4.json").read_text())
    info = media.probe(loop)  # measured by the unfrozen code: the bundle's ffmpeg wrote a real file
    assert info.codec == "h264" and info.frame_count == sidecar["seam"]["frame_count"]
    assert abs(info.frame_count / float(info.fps) - 4.0) < 0.05
    assert "verdict: seamless" in proc.stdout
    # First run in a fresh home: the landmark cache goes where packaging/INSTALL.md says.
    assert list((home / ".cache" / "navtalk_desktop" / "landmarks").glob("*.npz"))


@pytest.mark.slow
@pytest.mark.timeout(TEST_TIMEOUT_S)
def test_frozen_cli_version_and_self_test(frozen_app, tmp_path):
    env = _operator_env(tmp_path / "home")
    loop = str(frozen_app / f"navtalk-loop{EXE_SUFFIX}")
    proc = _run([loop, "--version"], env, tmp_path)
    assert proc.returncode == 0 and proc.stdout.strip() == f"navtalk-loop {version('navtalk-desktop')}"
    proc = _run([loop, "self-test", "--no-qt"], env, tmp_path)
    report = _report(proc)
    assert proc.returncode == 0 and report["frozen"], _failed(report)
    assert set(report["checks"]) == EXPECTED_CHECKS - {"main_window", "gl"}


@pytest.mark.slow
@pytest.mark.timeout(TEST_TIMEOUT_S)
def test_frozen_studio_exports_a_loop_unattended(frozen_app, frozen_demo, tmp_path):
    _, out_dir, _ = frozen_demo
    out = tmp_path / "studio_loop.mp4"
    proc = _run([str(frozen_app / f"navtalk-studio{EXE_SUFFIX}"), str(out_dir / "face.mp4"), "--export", str(out),
                 "--quit", "--no-restore"], _operator_env(tmp_path / "home"), tmp_path)
    assert proc.returncode == 0, f"{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    assert f"exported {out}" in proc.stdout
    assert media.probe(out).frame_count == json.loads((out_dir / "loop.mp4.json").read_text())["seam"]["frame_count"]
    if LINUX:  # the studio's log went to the per-user log folder INSTALL.md names
        assert (tmp_path / "home" / ".local" / "state" / "navtalk_desktop" / "log" / "navtalk.log").is_file()


@pytest.mark.slow
@pytest.mark.timeout(TEST_TIMEOUT_S)
@pytest.mark.skipif(sys.platform == "win32", reason="closing fd 1 and 2 through sh is the POSIX stand-in")
def test_frozen_studio_works_without_stdout_and_stderr(frozen_app, tmp_path):
    """A windowed build on Windows (or a macOS .app) starts with sys.stdout/sys.stderr = None. Python does the
    same when file descriptors 1 and 2 are closed, so this runs the studio that way: the entry script's guard
    must replace them (the self-test's bundle check fails otherwise) and the report still reaches --out."""
    out = tmp_path / "report.json"
    studio = str(frozen_app / "navtalk-studio")
    proc = _run(["sh", "-c", 'exec "$@" >&- 2>&-', "sh", studio, "--self-test", "--out", str(out)],
                _operator_env(tmp_path / "home"), tmp_path)
    assert out.is_file(), f"no report written (exit {proc.returncode})"
    report = json.loads(out.read_text())
    assert report["checks"]["bundle"]["ok"], report["checks"]["bundle"]["error"]
    assert report["checks"]["bundle"]["std_streams"] == {"stdout": "ok", "stderr": "ok"}, report["checks"]["bundle"]
    assert proc.returncode == 0 and report["ok"], json.dumps(_failed(report), indent=1)


# The parent side of a multiprocessing "spawn" start, aimed at a frozen program: with sys.frozen set, spawn starts
# `EXE --multiprocessing-fork tracker_fd=N pipe_handle=M`, exactly what the frozen app would run for its own
# children, and sends the pickled Process through the pipe. The child must run sys.exit(7) and stop there.
# The resource tracker is this harness' own pipe: the tracker would be started with *this* interpreter's flags,
# which a frozen program (rightly) does not recognise as its own.
SPAWN_PARENT = """
import multiprocessing as mp, multiprocessing.resource_tracker as rt, os, sys
sys.frozen = True
mp.set_executable(sys.argv[1])
tracker_read, rt._resource_tracker._fd = os.pipe()
child = mp.get_context("spawn").Process(target=sys.exit, args=(7,))
child.start()
child.join(120)
if child.exitcode is None:
    child.kill()
    child.join()
print("child exit code", child.exitcode)
"""


@pytest.mark.slow
@pytest.mark.timeout(TEST_TIMEOUT_S)
@pytest.mark.parametrize("program", ["navtalk-studio", "navtalk-loop"])
def test_frozen_programs_run_multiprocessing_children_not_themselves(frozen_app, tmp_path, program):
    """freeze_support(): a frozen program started as a multiprocessing child runs the child's code and exits;
    without it the child would start the app again (a new studio window, or a CLI usage error)."""
    env = {key: value for key, value in _operator_env(tmp_path / "home").items() if key != "PYTHONDONTWRITEBYTECODE"}
    proc = subprocess.run([sys.executable, "-c", SPAWN_PARENT, str(frozen_app / f"{program}{EXE_SUFFIX}")], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "child exit code 7", f"{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"


# --- the spec, for the platforms that are not built here -------------------------------------------------------
def _spec_tree() -> ast.Module:
    return ast.parse((ROOT / "packaging" / "navtalk-studio.spec").read_text())


def _calls(tree: ast.Module, name: str) -> list[ast.Call]:
    return [node for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name]


def _keyword(call: ast.Call, name: str):
    return next(k.value for k in call.keywords if k.arg == name)


def test_spec_builds_a_windowed_studio_a_console_cli_and_a_foreground_macos_app():
    """Windows and macOS are not built here, so their settings are checked in the spec itself: the studio is
    windowed, the CLI a console program, and the .app launches the studio as a normal (foreground) app."""
    tree = _spec_tree()
    constants = {node.targets[0].id: node.value for node in tree.body
                 if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)}
    name = ast.literal_eval(constants["NAME"])
    exes = {}
    for call in _calls(tree, "EXE"):
        exe_name = _keyword(call, "name")
        exe_name = name if isinstance(exe_name, ast.Name) and exe_name.id == "NAME" else ast.literal_eval(exe_name)
        exes[exe_name] = ast.literal_eval(_keyword(call, "console"))
    assert exes == {"navtalk-studio": False, "navtalk-loop": True}
    (collect,) = _calls(tree, "COLLECT")
    assert [arg.id for arg in collect.args[:2]] == ["studio_exe", "loop_exe"]
    # BUNDLE inherits console=True from the last EXE in the COLLECT (the CLI), and PyInstaller turns that into
    # LSBackgroundOnly=True unless info_plist overrides it.
    plist = ast.literal_eval(constants["MACOS_INFO_PLIST"])
    assert plist["LSBackgroundOnly"] is False and plist["CFBundleExecutable"] == "navtalk-studio"
    (bundle,) = _calls(tree, "BUNDLE")
    info = _keyword(bundle, "info_plist")
    assert any(isinstance(v, ast.Name) and v.id == "MACOS_INFO_PLIST" for v in info.values), "plist not used"
    # One icon for Windows and macOS (converted from the PNG by PyInstaller), shipped for Linux desktop entries.
    assert (ROOT / "packaging" / "icons" / "navtalk-studio.png").is_file()
    # freeze_support() is the first statement each program runs (before any import that could start work).
    for script in ("entry_studio.py", "entry_loop.py"):
        tree = ast.parse((ROOT / "packaging" / script).read_text())
        (main_block,) = [node for node in tree.body if isinstance(node, ast.If)]
        assert ast.unparse(main_block.body[0]) == "multiprocessing.freeze_support()", script


# --- the self-test, unfrozen ------------------------------------------------------------------------------------
def _unfrozen(args: list[str], tmp_path: Path, **extra_env) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", **extra_env}
    env.pop("DISPLAY", None)
    return subprocess.run([sys.executable, "-m", *args], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=RUN_TIMEOUT_S)


def test_self_test_passes_unfrozen(tmp_path):
    proc = _unfrozen(["navtalk_desktop", "--self-test"], tmp_path)
    report = _report(proc)
    assert proc.returncode == 0, json.dumps(_failed(report), indent=1)
    assert report["frozen"] is False and set(report["checks"]) == EXPECTED_CHECKS
    assert report["checks"]["face_mesh"]["face_box"][0] > 0 and report["checks"]["face_mesh"]["landmarks"] == 478
    assert report["checks"]["espeak"]["phonemizer"] and report["checks"]["ffmpeg"]["loop_frames"] == 20


def test_self_test_fails_and_says_why_when_ffmpeg_is_missing(tmp_path):
    proc = _unfrozen(["navtalk_desktop.cli.main", "self-test", "--no-qt"], tmp_path,
                     NAVTALK_FFMPEG=str(tmp_path / "no-such-ffmpeg"))
    report = _report(proc)
    assert proc.returncode == 1 and report["ok"] is False
    assert set(_failed(report)) == {"ffmpeg"}
    assert "no-such-ffmpeg" in report["checks"]["ffmpeg"]["error"]


def test_a_hanging_check_times_out_instead_of_hanging():
    started = time.monotonic()
    entry = selftest.run_check("stuck", lambda: time.sleep(30) or {}, timeout=0.3)
    assert time.monotonic() - started < 5
    assert entry["ok"] is False and entry["timed_out"] is True and "0.3 s" in entry["error"]


def test_a_crashing_check_is_reported_not_raised():
    entry = selftest.run_check("broken", lambda: {}["missing"], timeout=10)
    assert entry["ok"] is False and entry["error"].startswith("KeyError")


def test_bundle_library_paths_flags_only_entries_inside_the_bundle(tmp_path, monkeypatch):
    from navtalk_desktop import frozen

    bundle = tmp_path / "navtalk-studio" / "_internal"
    bundle.mkdir(parents=True)
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)
    env = {"LD_LIBRARY_PATH": os.pathsep.join([str(bundle), "/opt/userlib", str(bundle / "cv2" / ".." / ".." / "lib64")]),
           "DYLD_LIBRARY_PATH": str(bundle / "sub")}
    assert frozen.bundle_library_paths(env) == [f"LD_LIBRARY_PATH={bundle}", f"DYLD_LIBRARY_PATH={bundle / 'sub'}"]
    assert frozen.in_bundle(bundle / "resources") is True and frozen.in_bundle("/usr/lib") is False
    monkeypatch.delattr(sys, "_MEIPASS")
    assert frozen.bundle_library_paths(env) == [] and frozen.in_bundle(bundle) is None
