"""The landmark pass' own Face Mesh call gives exactly what FaceMesh.process gives, frame by frame, on a real
clip; the wire reader takes only the layout it knows and leaves the rest to the protobuf parser."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from navtalk_desktop.core import face_mesh_call, landmarks, media


def _landmark_list(points, visibility=None) -> bytes:
    from mediapipe.framework.formats import landmark_pb2

    face = landmark_pb2.NormalizedLandmarkList()
    for x, y, z in points:
        lm = face.landmark.add(x=x, y=y, z=z)
        if visibility is not None:
            lm.visibility = visibility
    return face.SerializeToString()


def test_the_wire_reader_gives_x_and_y_of_every_landmark_in_order():
    points = [(0.25, 0.5, -0.01), (0.0, 1.0, 0.0), (0.123456, 0.654321, 0.3)]
    got = face_mesh_call.parse_landmark_list(_landmark_list(points))
    assert got.shape == (3, 2)
    np.testing.assert_array_equal(got, np.array([p[:2] for p in points], np.float32))


@pytest.mark.parametrize("serialized", [b"", _landmark_list([(0.1, 0.2, 0.3)], visibility=0.9), b"\x0a\x0f" + b"\0" * 15])
def test_the_wire_reader_declines_any_other_layout(serialized):
    assert face_mesh_call.parse_landmark_list(serialized) is None


def _frames():
    clip = Path(__file__).parent / "fixtures" / "liveportrait_d12.mp4"
    frames = list(media.read_frames(clip, start_frame=30, end_frame=60))
    blank = np.zeros_like(frames[0])
    return frames[:10] + [blank] + frames[10:]  # tracking lost and found again


def _points(frames, call):
    """`call(mesh, rgb)` over `frames` with one fresh mesh (it tracks from frame to frame)."""
    mesh = landmarks.create_face_mesh()
    try:
        return [call(mesh, np.ascontiguousarray(f)) for f in frames]
    finally:
        mesh.close()


def _assert_same(expected, got):
    assert [p is None for p in got] == [p is None for p in expected]
    assert sum(p is not None for p in got) == len(got) - 1  # every face frame found, the blank one not
    for want, have in zip(expected, got):
        if want is not None:
            assert have.dtype == np.float32 and have.shape == (landmarks.N_LANDMARKS, 2)
            np.testing.assert_array_equal(have, want)


def test_the_own_call_gives_what_face_mesh_process_gives():
    frames = _frames()
    _assert_same(_points(frames, face_mesh_call._public), _points(frames, face_mesh_call.normalised_landmarks))


def test_a_layout_the_wire_reader_declines_is_read_by_the_protobuf_parser(monkeypatch):
    frames = _frames()
    expected = _points(frames, face_mesh_call._public)
    monkeypatch.setattr(face_mesh_call, "parse_landmark_list", lambda serialized: None)
    _assert_same(expected, _points(frames, face_mesh_call.normalised_landmarks))
