"""Every JSON text the app writes is strict RFC 8259 (no NaN/Infinity): parsed here with a parser that refuses them."""

import json
import math

import pytest
from test_cli import run_cli

from navtalk_desktop.core import ffmpeg, strict_json
from navtalk_desktop.core.project import ExportSettings, Project, save_project
from navtalk_desktop.core.settings import Settings, save_settings


def strict(text: str):
    return strict_json.loads_strict(text)


@pytest.fixture(scope="module")
def still_jump_clip(tmp_path_factory):
    """No face: 10 white frames then 15 black ones. A crossfade loop of it is still except at the wrap."""
    path = tmp_path_factory.mktemp("jump") / "jump.mp4"
    ffmpeg.run(["-y", "-f", "lavfi", "-i",
                "color=c=black:s=160x120:r=25:d=1,drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='lt(n,10)'",
                "-pix_fmt", "yuv420p", str(path)])
    return path


def test_the_strict_parser_refuses_what_python_writes_by_default():
    with pytest.raises(ValueError):
        strict(json.dumps({"x": float("inf")}))
    with pytest.raises(ValueError):
        strict(json.dumps([float("nan")]))


def test_dumps_writes_null_and_a_reason_for_non_finite_numbers():
    text = strict_json.dumps({"a": float("inf"), "b": [1.0, float("nan")], "c": {"d": float("-inf")}, "e": 2.5})
    data = strict(text)
    assert data == {"a": None, "a_reason": "infinite", "b": [1.0, None], "c": {"d": None, "d_reason": "infinite"},
                    "e": 2.5}
    kept = strict(strict_json.dumps({"a": math.nan, "a_reason": "the writer's own reason"}))
    assert kept == {"a": None, "a_reason": "the writer's own reason"}


def test_export_sidecar_and_inspect_of_a_faceless_still_loop_are_strict(still_jump_clip, tmp_path):
    out = tmp_path / "loop.mp4"
    proc = run_cli("export", still_jump_clip, "--out", out, "--frame", "12", "--strategy", "crossfade",
                   "--duration", "0.6", "--before", "0.08", "--crossfade", "0.04")
    assert proc.returncode == 0, proc.stderr
    sidecar = strict((tmp_path / "loop.mp4.json").read_text())
    seam = sidecar["seam"]
    assert seam["seam_step"] > 100 and seam["median_step"] == 0  # the case that used to write Infinity
    assert seam["seam_step_ratio"] is None and "median step 0" in seam["seam_step_ratio_reason"]
    assert seam["verdict"].startswith("visible jump at the seam")
    proc = run_cli("inspect", out, "--json")
    assert proc.returncode == 0, proc.stderr
    report = strict(proc.stdout)
    assert report["seam_step_ratio"] is None and report["seam_step_ratio_reason"]
    assert "inf" not in report["verdict"]


def test_analyze_json_of_a_faceless_clip_is_strict(still_jump_clip, tmp_path):
    proc = run_cli("analyze", still_jump_clip, "--json")
    assert proc.returncode == 0, proc.stderr
    data = strict(proc.stdout)
    assert data["face_fraction"] == 0 and set(data["ear"]["mean"]) == {None}
    out = tmp_path / "a.json"
    assert run_cli("analyze", still_jump_clip, "--json", "-o", out).returncode == 0
    assert strict(out.read_text()) == data


def test_project_and_settings_files_are_strict(tmp_path):
    project = Project(source=str(tmp_path / "v.mp4"), export=ExportSettings(duration=float("nan")))
    path = save_project(project, tmp_path / "p.navtalk.json")
    data = strict(path.read_text())
    assert data["export"]["duration"] is None and data["export"]["duration_reason"] == "not a number"
    settings_file = save_settings(Settings(), tmp_path / "settings.json")
    strict(settings_file.read_text())
