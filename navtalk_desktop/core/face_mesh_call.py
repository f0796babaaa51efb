"""One frame through a Face Mesh graph, without the solution API's per-call costs.

`FaceMesh.process` (mediapipe 0.10.21, `solution_base.SolutionBase.process`) builds a new namedtuple class
on every call (`collections.namedtuple`, which runs `eval`: ~0.45 ms) and parses the landmarks into
protobuf objects, which we then read one attribute at a time (~0.3 ms for 478 points). That is ~15% of a
frame's mesh time, on the landmark pass' critical path (docs/performance.md, "The mesh call"). Here the
frame goes into the same graph the same way (the same packet, the same simulated 30 fps timestamps), and
the serialized landmark list is read with numpy: every NormalizedLandmark of Face Mesh is x, y and z only,
17 bytes on the wire. Any other layout, or a mediapipe without these internals, takes the public path, so
the result is the same either way (`tests/test_face_mesh_call.py` compares the two).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

OUTPUT = "multi_face_landmarks"

# One landmark of a NormalizedLandmarkList on the wire: field 1 (length-delimited, 15 bytes), then floats
# x (field 1), y (field 2), z (field 3), each a tag byte and 4 little-endian bytes.
_WIRE = np.dtype([("tag", "u1"), ("size", "u1"), ("tx", "u1"), ("x", "<f4"), ("ty", "u1"), ("y", "<f4"),
                  ("tz", "u1"), ("z", "<f4")])
_TAGS = {"tag": 0x0A, "size": 15, "tx": 0x0D, "ty": 0x15, "tz": 0x1D}


def parse_landmark_list(serialized: bytes) -> np.ndarray | None:
    """(n, 2) normalised x, y of a serialized NormalizedLandmarkList of x, y, z landmarks; None when the
    bytes hold anything else (another field, a missing coordinate), for the protobuf parser to read."""
    if not serialized or len(serialized) % _WIRE.itemsize:
        return None
    wire = np.frombuffer(serialized, _WIRE)
    if any((wire[name] != value).any() for name, value in _TAGS.items()):
        return None
    return np.stack([wire["x"], wire["y"]], axis=1)


def _xy(face) -> np.ndarray:
    """(n, 2) float32 x, y of a NormalizedLandmarkList message."""
    lm = face.landmark
    return np.fromiter((v for p in lm for v in (p.x, p.y)), dtype=np.float32, count=2 * len(lm)).reshape(-1, 2)


def _public(mesh, rgb: np.ndarray) -> np.ndarray | None:
    result = mesh.process(rgb)
    return _xy(result.multi_face_landmarks[0]) if result.multi_face_landmarks else None


@lru_cache(maxsize=1)
def _bindings():
    """MediaPipe's packet creator, packet getter and image formats, imported once (None: not this mediapipe)."""
    try:
        from mediapipe.python import packet_creator
        from mediapipe.python._framework_bindings import _packet_getter
        from mediapipe.python._framework_bindings.image_frame import ImageFormat
    except ImportError:
        return None
    return packet_creator, _packet_getter, ImageFormat


def normalised_landmarks(mesh, rgb: np.ndarray) -> np.ndarray | None:
    """(n, 2) float32 normalised x, y of the first face Face Mesh finds in contiguous RGB `rgb`, or None."""
    bindings = _bindings()
    graph, outputs = getattr(mesh, "_graph", None), getattr(mesh, "_graph_outputs", None)
    if bindings is None or graph is None or outputs is None:
        return _public(mesh, rgb)
    packet_creator, _packet_getter, ImageFormat = bindings
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError("Input image must contain three channel rgb data.")
    outputs.clear()
    mesh._simulated_timestamp += 33333  # as SolutionBase.process: a 30 fps stream
    packet = packet_creator.create_image_frame(rgb, image_format=ImageFormat.SRGB)
    graph.add_packet_to_input_stream(stream="image", packet=packet.at(mesh._simulated_timestamp))
    graph.wait_until_idle()
    found = outputs.get(OUTPUT)
    if found is None or found.is_empty():
        return None
    faces = _packet_getter._get_serialized_proto_list(found)
    if not faces:
        return None
    points = parse_landmark_list(faces[0])
    if points is None:  # not the layout above: the protobuf parser reads it
        from mediapipe.framework.formats import landmark_pb2

        points = _xy(landmark_pb2.NormalizedLandmarkList.FromString(faces[0]))
    return points
