"""Core errors carry facts and a remedy; the CLI words the remedy with its flags, the studio with its controls."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from navtalk_desktop.cli.error_words import worded as cli_worded
from navtalk_desktop.core.analysis import AnalysisResult
from navtalk_desktop.core.errors import PlanError, Remedy
from navtalk_desktop.core.export import format_for
from navtalk_desktop.core.loop_plan import fit_inside, LoopPlan
from navtalk_desktop.ui.error_words import worded as ui_worded

CORE = Path(__file__).resolve().parents[1] / "navtalk_desktop" / "core"


def _core_strings():
    for path in CORE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                      and node.body and isinstance(node.body[0], ast.Expr)
                      and isinstance(node.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                yield path, node.lineno, node.value


def test_no_core_message_names_a_command_line_flag():
    """A flag in a core string would reach the studio's window unchanged ("choose a shorter --duration")."""
    import re

    flag = re.compile(r"(^|[\s(`])--[a-z][a-z-]+")
    argv_token = re.compile(r"--[a-z][a-z-]*")  # one argument of a command core runs (setpriv --pdeathsig), not words
    found = [f"{p.relative_to(CORE)}:{line}: {text!r}" for p, line, text in _core_strings()
             if flag.search(text) and not argv_token.fullmatch(text)]
    assert not found, "\n".join(found)


def test_a_plan_too_long_for_the_video_names_its_remedy_and_each_front_end_words_it():
    plan = LoopPlan("pingpong", 25, 1, 50, 0, 79, 40, 0)
    with pytest.raises(PlanError) as err:
        fit_inside(plan)
    exc = err.value
    assert exc.remedy == Remedy.SHORTER_DURATION and "--" not in str(exc)
    assert cli_worded(exc) == f"{exc}; choose a shorter --duration"
    assert ui_worded(exc) == f"{exc}; choose a shorter Duration in the Export panel"


def test_every_remedy_is_worded_by_both_front_ends():
    from navtalk_desktop.cli import error_words as cli
    from navtalk_desktop.ui import error_words as ui

    assert set(cli._HINTS) == set(Remedy) == set(ui._HINTS)
    for remedy in Remedy:
        exc = PlanError("the facts", remedy=remedy, fix="scale it", engine="espeak")
        assert cli_worded(exc) != "the facts" and ui_worded(exc) != "the facts"
        assert "--" not in ui_worded(exc)  # the window has no flags


def test_an_unnamed_format_is_worded_for_the_cli():
    from navtalk_desktop.core.errors import OutputError

    with pytest.raises(OutputError) as err:
        format_for(Path("loop.avi"), None)
    assert cli_worded(err.value).endswith(".gif, or pass --format")
    assert ui_worded(err.value).endswith("or choose a Format in the Export panel")
