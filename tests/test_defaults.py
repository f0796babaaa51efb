"""One source for defaults: the CLI, the settings file, a new project and the Kling client start from
core/defaults.py, so changing a value there changes all of them."""

from __future__ import annotations

from fractions import Fraction

from navtalk_desktop.cli.main import build_parser
from navtalk_desktop.core import defaults
from navtalk_desktop.core.kling import capabilities
from navtalk_desktop.core.loop_plan import DEFAULT_DURATION_S, STRATEGIES, Strategy, make_plan
from navtalk_desktop.core.project import ExportSettings, GenerationSettings
from navtalk_desktop.core.settings import Settings


def test_every_layer_starts_from_core_defaults(monkeypatch):
    export = build_parser().parse_args(["export", "clip.mp4", "--out", "loop.mp4"])
    make_loop = build_parser().parse_args(["make-loop", "face.png", "--out", "loop.mp4"])
    generate = build_parser().parse_args(["generate", "face.png", "--out", "video.mp4"])
    for got in (export.strategy, make_loop.strategy, Settings().export_strategy, ExportSettings().strategy):
        assert got == defaults.EXPORT_STRATEGY
    for got in (export.duration, Settings().export_duration, ExportSettings().duration, DEFAULT_DURATION_S):
        assert got == defaults.LOOP_DURATION_S
    assert export.quality == make_loop.quality == Settings().export_quality == defaults.EXPORT_QUALITY
    assert Settings().export_format == ExportSettings().format == defaults.EXPORT_FORMAT
    for got in ((generate.model, generate.mode, str(generate.duration)),
                (Settings().default_model, Settings().default_mode, Settings().default_duration),
                (GenerationSettings().model, GenerationSettings().mode, GenerationSettings().duration),
                (capabilities.DEFAULT_MODEL, capabilities.DEFAULT_MODE, capabilities.DEFAULT_DURATION)):
        assert got == (defaults.KLING_MODEL, defaults.KLING_MODE, defaults.KLING_DURATION)
    assert defaults.KLING_MODEL in capabilities.MODELS


def test_strategies_are_one_enum():
    assert STRATEGIES == tuple(s.value for s in Strategy) == ("auto", "pingpong", "crossfade", "morph")
    plan = make_plan("pingpong", Fraction(30), 300, 150)
    assert plan.strategy == Strategy.PINGPONG and plan.output_frames == 2 * plan.span - 2
