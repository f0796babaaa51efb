"""MediaPipe Face Mesh graphs and models: no upstream hook exists (docs/design-notes.md#packaging).

mediapipe 0.10.21 opens its `.binarypb` graphs and `.tflite` models by path relative to its own package
(`solution_base.py`), so PyInstaller's import analysis never sees them. Only the two folders the Face Mesh
graph reads are collected (face_landmark, plus face_detection for the short-range detector it runs first),
not every model in the wheel; of the detectors only the short-range one is used.
"""

from PyInstaller.utils.hooks import collect_data_files

datas = collect_data_files(
    "mediapipe",
    includes=[
        "modules/face_detection/face_detection_short_range*",
        "modules/face_landmark/*.tflite",
        "modules/face_landmark/*.binarypb",
    ],
)
