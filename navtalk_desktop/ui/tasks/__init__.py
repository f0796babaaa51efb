"""Background tasks of the studio, the one module the rest of `ui` imports them from.

- the runner (`TaskRunner`): QThreadPool work whose progress, result, failure or cancellation reach the
  GUI thread as signals; it owns each task's signals, drops the late results of superseded tasks (lanes)
  and classifies failures (expected `NavTalkError` vs bug) in `TaskError`;
- the loop workflow's task functions (`probe_task`, `analysis_task`, ... `export_task`): plain functions of
  a `TaskContext`, heavy imports inside, so opening the window never waits for them;
- the preview's speech and loop-loading tasks (`speech_task`, `loop_task`, the `SPEECH_LANE` they share);
- the controls every panel running a task shows alike (`add_task_controls`).
"""

from ._controls import PROGRESS_STEPS, add_task_controls
from ._preview import SPEECH_LANE, loop_task, speech_task
from ._runner import PROGRESS_INTERVAL_S, TaskContext, TaskError, TaskHandle, TaskRunner, TaskSignals
from ._studio import (PREVIEW_BUDGET_BYTES, PREVIEW_MAX_WIDTH, PreviewFrames, analysis_task, auto_plan_task,
                      export_task, preflight_task, predict_seam_task, preview_frames_task, probe_task,
                      seam_frames_task)

__all__ = [
    "PREVIEW_BUDGET_BYTES", "PREVIEW_MAX_WIDTH", "PROGRESS_INTERVAL_S", "PROGRESS_STEPS", "PreviewFrames", "SPEECH_LANE",
    "TaskContext", "TaskError", "TaskHandle", "TaskRunner", "TaskSignals", "add_task_controls", "analysis_task",
    "auto_plan_task", "export_task", "preflight_task", "predict_seam_task", "preview_frames_task", "probe_task",
    "seam_frames_task", "loop_task", "speech_task",
]
