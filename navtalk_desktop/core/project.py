"""A studio project: the small JSON document that reopens the work where it was left.

It references, never embeds: the source video (and portrait), the generation job, the analysis (by
content hash, since landmarks are cached by hash), the loop plan and the export settings. Paths inside
the project's folder are stored relative to it, so a project folder can be moved as a whole.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import defaults, strict_json
from .atomic import write_text_atomic
from .blink_edits import BlinkEdits
from .errors import InputError, PlanError
from .loop_plan import LoopPlan

FORMAT = "navtalk-studio-project"
VERSION = 1
SUFFIX = ".navtalk.json"


@dataclass
class ExportSettings:
    strategy: str = defaults.EXPORT_STRATEGY.value  # a Strategy value
    duration: float = defaults.LOOP_DURATION_S
    format: str = defaults.EXPORT_FORMAT
    quality: str = defaults.EXPORT_QUALITY
    output: str = ""  # last output path; empty = derived from the source name


@dataclass
class GenerationSettings:
    model: str = defaults.KLING_MODEL
    mode: str = defaults.KLING_MODE
    duration: str = defaults.KLING_DURATION
    prompt: str = ""  # empty = the default NavTalk prompt
    loop_tail: bool = False


@dataclass
class Project:
    source: str = ""  # the video being looped (absolute path once loaded)
    portrait: str = ""  # the image a generation started from, if any
    job_id: str = ""
    analysis_hash: str = ""  # content hash of the analysed video (landmarks cache key)
    analyser: str = ""  # analyser version that produced it
    plan: LoopPlan | None = None
    export: ExportSettings = field(default_factory=ExportSettings)
    generation: GenerationSettings = field(default_factory=GenerationSettings)
    blink_edits: BlinkEdits = field(default_factory=BlinkEdits)  # the artist's blink corrections

    def to_dict(self, base: Path | None = None) -> dict:
        return {
            "format": FORMAT,
            "version": VERSION,
            "source": _store_path(self.source, base),
            "portrait": _store_path(self.portrait, base),
            "job_id": self.job_id,
            "analysis": {"content_hash": self.analysis_hash, "analyser": self.analyser},
            "plan": None if self.plan is None else _plan_fields(self.plan),
            "export": asdict(self.export),
            "generation": asdict(self.generation),
            "blinks": self.blink_edits.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict, base: Path | None = None, name: str = "project") -> "Project":
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise InputError(f"{name} is not a NavTalk Studio project file")
        version = data.get("version")
        if not isinstance(version, int) or version > VERSION:
            raise InputError(f"{name} was written by a newer NavTalk Studio (format version {version}); "
                             f"update the app to open it")
        plan = None
        if data.get("plan"):
            try:
                plan = LoopPlan.from_dict(data["plan"])
            except (KeyError, TypeError) as exc:
                raise InputError(f"{name} has a damaged loop plan ({exc})") from None
            except PlanError as exc:
                raise InputError(f"{name} has an invalid loop plan: {exc}") from None
        analysis = data.get("analysis") or {}
        blink_edits = BlinkEdits.from_dict(data.get("blinks"), name=f"{name}: the blink corrections")
        return cls(
            source=_load_path(data.get("source", ""), base),
            portrait=_load_path(data.get("portrait", ""), base),
            job_id=str(data.get("job_id") or ""),
            analysis_hash=str(analysis.get("content_hash") or ""),
            analyser=str(analysis.get("analyser") or ""),
            plan=plan,
            export=_dataclass_from(ExportSettings, data.get("export")),
            generation=_dataclass_from(GenerationSettings, data.get("generation")),
            blink_edits=blink_edits,
        )


def save_project(project: Project, path: Path | str) -> Path:
    path = Path(path)
    text = strict_json.dumps(project.to_dict(base=path.resolve().parent))
    write_text_atomic(path, text + "\n")
    return path


def load_project(path: Path | str) -> Project:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"project file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read project file {path}: {exc}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InputError(f"{path.name} is not valid JSON ({exc}); it is not a usable project file") from None
    return Project.from_dict(data, base=path.resolve().parent, name=path.name)


def _plan_fields(plan: LoopPlan) -> dict:
    return {k: v for k, v in plan.to_dict().items()
            if k in ("strategy", "fps_num", "fps_den", "source_frames", "first", "last", "loop_point",
                     "crossfade_frames")}


def _store_path(path: str, base: Path | None) -> str:
    if not path:
        return ""
    p = Path(path)
    if base is not None and p.is_absolute():
        try:
            return p.resolve().relative_to(base).as_posix()
        except ValueError:
            pass
    return str(p)


def _load_path(text, base: Path | None) -> str:
    if not text or not isinstance(text, str):
        return ""
    p = Path(text)
    if not p.is_absolute() and base is not None:
        p = base / p
    return str(p)


def _dataclass_from(cls, data):
    defaults = cls()
    if not isinstance(data, dict):
        return defaults
    values = {}
    for key, default in asdict(defaults).items():
        value = data.get(key, default)
        if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        values[key] = value if type(value) is type(default) else default
    return cls(**values)
