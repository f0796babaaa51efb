"""Face Mesh by the light import path: a real face is found, nothing heavy is imported, and MediaPipe
stays whole for whoever imports it afterwards."""

from __future__ import annotations

import json
import subprocess
import sys

_SCRIPT = r"""
import json, sys
import numpy as np
from PIL import Image
from navtalk_desktop.core.face_mesh_import import face_mesh_module
from navtalk_desktop.core.resources import sample_portrait
face_mesh = face_mesh_module()
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"matplotlib", "cv2", "scipy"})
tasks_loaded = "mediapipe.tasks" in sys.modules
mesh = face_mesh.FaceMesh(static_image_mode=True, refine_landmarks=True, max_num_faces=1)
result = mesh.process(np.asarray(Image.open(sample_portrait()).convert("RGB")))
points = len(result.multi_face_landmarks[0].landmark) if result.multi_face_landmarks else 0
import mediapipe as mp  # the whole package, as an ordinary import would give it
whole = [mp.__version__, mp.solutions.face_mesh is face_mesh, hasattr(mp.solutions.drawing_utils, "DrawingSpec"),
         hasattr(mp.tasks.vision, "FaceLandmarker")]
print(json.dumps({"heavy": heavy, "tasks": tasks_loaded, "points": points, "whole": whole}))
"""


def test_light_face_mesh_finds_a_face_and_leaves_mediapipe_whole():
    proc = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["heavy"] == [] and report["tasks"] is False  # neither drawing utils nor the Tasks API
    assert report["points"] == 478  # refined mesh: 468 + 10 iris points
    assert report["whole"] == ["0.10.21", True, True, True]
