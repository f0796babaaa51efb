"""The baseline of bench_cli_speed.py: the 40-line script a user could write instead of `analyze`.

OpenCV decodes every frame, MediaPipe Face Mesh (refine_landmarks=True) finds the landmarks, and the
Eye Aspect Ratio of both eyes is printed as JSON, one value per frame (NaN where no face was found).
Usage: python bench/minimal_analyze.py VIDEO
"""

import json
import sys

import cv2
import mediapipe as mp
import numpy as np

RIGHT_EYE = [33, 160, 158, 133, 153, 144]  # p1..p6 of Soukupova & Cech
LEFT_EYE = [362, 385, 387, 263, 373, 380]


def ear(p: np.ndarray) -> float:
    return float((np.linalg.norm(p[1] - p[5]) + np.linalg.norm(p[2] - p[4])) / (2 * np.linalg.norm(p[0] - p[3])))


def main(path: str) -> None:
    capture = cv2.VideoCapture(path)
    mesh = mp.solutions.face_mesh.FaceMesh(max_num_faces=1, refine_landmarks=True)
    curve = []
    while True:
        ok, bgr = capture.read()
        if not ok:
            break
        height, width = bgr.shape[:2]
        result = mesh.process(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        if not result.multi_face_landmarks:
            curve.append(None)
            continue
        lm = result.multi_face_landmarks[0].landmark
        pts = np.array([(lm[i].x * width, lm[i].y * height) for i in RIGHT_EYE + LEFT_EYE])
        curve.append((ear(pts[:6]) + ear(pts[6:])) / 2)
    print(json.dumps({"frames": len(curve), "ear": curve}))


if __name__ == "__main__":
    main(sys.argv[1])
