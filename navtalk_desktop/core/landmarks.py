"""Per-frame MediaPipe Face Mesh landmarks of a video, in pixel coordinates, cached by content hash.

Decoding runs in ffmpeg plus a reader thread (see media.iter_frames) while this thread runs the mesh,
so the two overlap. The cache lets a second analysis, and the mouth renderer, skip landmarking.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

import numpy as np

from . import media
from .app_paths import cache_dir
from .atomic import atomic_output
from .cancel import CancelToken
from .errors import InputError, OutputError
from .face_mesh_call import normalised_landmarks

if TYPE_CHECKING:
    from .grain import BlendDetail

log = logging.getLogger(__name__)

# Bump when landmarking changes in a way that changes its output; old cache entries are then ignored.
# v4: frames that fit already still pass ffmpeg's scale filter (fast_bilinear), which changes the pixel-format
# conversion of non-4:2:0 sources (media.iter_frames' fit_long_side). v5: the grain measure (blend_detail).
LANDMARKER_VERSION = "fm0.10.21-refine-track-v5"
N_LANDMARKS = 478
# Frames larger than this (long side) are decoded downscaled for landmarking: the mesh model works on a
# 192-256 px face crop anyway, and piping full 1080p RGB costs more than the mesh itself.
ANALYSIS_MAX_SIDE = 960
# The landmark pass also keeps every frame gray at the seam metric's width (seam.METRIC_WIDTH; a test checks
# they agree) for planning, from the same decode; the cache stores them for clips up to this many frames
# (27 MB at 600), so an export after `analyze` does not decode the source for planning either.
SMALL_FRAME_WIDTH = 160
CACHED_SMALL_FRAMES_MAX = 600


@dataclass
class LandmarkTrack:
    """Landmarks of every frame: points[i] is (478, 2) in source pixels, NaN where no face was found."""

    points: np.ndarray
    fps: float
    width: int
    height: int
    content_hash: str = ""
    info: media.VideoInfo | None = None  # the probe of the file (from the cache when the landmarks are)
    # With keep_small_frames: every frame gray at seam.METRIC_WIDTH, decoded in the landmark pass, so that
    # planning does not decode the source again (never cached: a cached analysis has none).
    small_frames: np.ndarray | None = field(default=None, repr=False)
    # grain.blend_keeps of two frames a default loop's length apart (grain.probe_frames), as the pass decoded
    # them: how much fine detail a plain crossfade keeps; None where not measured (cached with the landmarks)
    blend_detail: "BlendDetail | None" = None

    @property
    def face_present(self) -> np.ndarray:
        return ~np.isnan(self.points[:, 0, 0])

    @property
    def frame_count(self) -> int:
        return int(self.points.shape[0])


def landmark_cache_dir() -> Path:
    path = cache_dir() / "landmarks"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _cache_path(digest: str) -> Path | None:
    """Where this file's landmarks are cached; None when the cache folder cannot be made (NAVTALK_CACHE_DIR
    names a file, a read-only disk): the analysis then runs without its cache, as with use_cache=False."""
    try:
        return landmark_cache_dir() / f"{digest}-{LANDMARKER_VERSION}.npz"
    except OSError as exc:
        log.warning("the landmark cache is off: cannot use the cache folder (%s)", exc.strerror or exc)
        return None


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null for a moment.

    MediaPipe's C++ side logs its TFLite delegate and feedback-manager warnings straight to fd 2 when a
    graph first runs, cutting through progress bars; GLOG_minloglevel and TF_CPP_MIN_LOG_LEVEL do not
    stop them. NAVTALK_MEDIAPIPE_LOGS=1 keeps them.
    """
    if os.environ.get("NAVTALK_MEDIAPIPE_LOGS") == "1":
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no fd 2 (a windowed frozen app)
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def create_face_mesh(static: bool = False):
    """A Face Mesh with the refined (attention) model; a fresh one per clip, since it tracks across frames.

    It is warmed up on a blank frame with native logging silenced (see _native_stderr_silenced); a blank
    frame has no face, so tracking still starts with a detection on the first real frame.
    """
    from .face_mesh_import import face_mesh_module

    with _native_stderr_silenced():
        mesh = face_mesh_module().FaceMesh(
            static_image_mode=static,
            max_num_faces=1,
            refine_landmarks=True,
            min_detection_confidence=0.5,
            min_tracking_confidence=0.5,
        )
        mesh.process(np.zeros((64, 64, 3), np.uint8))
    return mesh


class _MeshMaker:
    """create_face_mesh() on a thread of its own, so a caller can start the decoder meanwhile."""

    def __init__(self):
        import threading

        self._mesh = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._make, name="face-mesh-maker", daemon=True)
        self._thread.start()

    def _make(self) -> None:
        try:
            self._mesh = create_face_mesh()
        except BaseException as exc:  # noqa: BLE001 - raised by result(), on the caller's thread
            self._error = exc

    def result(self):
        """The mesh, once made (or the error that made it fail)."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._mesh

    def close(self) -> None:
        """Close the mesh, whether or not anyone took it."""
        self._thread.join()
        if self._mesh is not None:
            self._mesh.close()
            self._mesh = None


def landmarks_of_image(rgb: np.ndarray, mesh=None) -> np.ndarray | None:
    """(478, 2) pixel landmarks of the face in one RGB image, or None when there is no face."""
    own = mesh is None
    mesh = mesh or create_face_mesh(static=True)
    try:
        return _process(mesh, rgb, rgb.shape[1], rgb.shape[0], quiet=True)
    finally:
        if own:
            mesh.close()


def _process(mesh, rgb: np.ndarray, out_w: int, out_h: int, quiet: bool = False) -> np.ndarray | None:
    if quiet:  # the first frames with a face still log a projection warning from C++
        with _native_stderr_silenced():
            pts = normalised_landmarks(mesh, np.ascontiguousarray(rgb))
    else:
        pts = normalised_landmarks(mesh, np.ascontiguousarray(rgb))
    if pts is None:
        return None
    pts *= np.array([out_w, out_h], dtype=np.float32)
    return pts


def compute_landmarks(
    path: Path | str,
    info: media.VideoInfo | None = None,
    on_progress: Callable[[float], None] | None = None,
    cancel: CancelToken | None = None,
    small_width: int | None = None,
    mesh_maker: "_MeshMaker | None" = None,
    small_frames_wanted: Callable[[media.VideoInfo], bool] | None = None,
) -> LandmarkTrack:
    """Landmarks of every frame; with `small_width`, also the frames gray at that width, at most the
    frame's even width, as seam.source_frames_small makes them (`small_frames`), from the same decode
    (media.iter_frames' thumbnails) where the platform allows it; `small_frames_wanted(info)` may still
    decline them once the probe is known. Without `info`, the decode starts beside the probe
    (media.iter_fitted_frames_probing). `mesh_maker`: a mesh already being made (closed here)."""
    # The mesh is made while the probe and ffmpeg start (~25 ms, beside 60-90 ms to a first frame).
    made = mesh_maker or _MeshMaker()
    mesh = None
    count = 0
    points_found = False
    try:
        # One decoder thread, so decoding and the mesh each keep a core busy instead of three threads
        # contending for two; fast_bilinear, since the mesh crops and resamples the face itself; RGB made
        # from I420 by OpenCV in the reader thread, which costs far less CPU than swscale's RGB.
        thumbs: list = []
        if info is None:
            info, frames = media.iter_fitted_frames_probing(
                path, ANALYSIS_MAX_SIDE, thumbs=thumbs, thumb_width=small_width,
                thumbs_wanted=small_frames_wanted or (lambda _: True), scale_flags="fast_bilinear",
                decode_threads=1, cancel=cancel)
        else:
            if small_width and small_frames_wanted is not None and not small_frames_wanted(info):
                small_width = None
            frames = media.iter_frames(path, info, fit_long_side=ANALYSIS_MAX_SIDE,
                                       scale_flags="fast_bilinear", decode_threads=1, cancel=cancel,
                                       thumbs=thumbs if small_width else None, thumb_width=small_width,
                                       rgb_via_i420=True)
        points = np.full((info.frame_count, N_LANDMARKS, 2), np.nan, dtype=np.float32)
        probe = grain_probe_frames(info)
        probed: dict[int, np.ndarray] = {}
        for i, frame in enumerate(frames):
            if probe and i in probe:
                probed[i] = grain_gray(frame)
            if mesh is None:
                mesh = made.result()
            if i >= info.frame_count:  # more decoded frames than packets: grow rather than drop
                points = np.concatenate([points, np.full((1, N_LANDMARKS, 2), np.nan, np.float32)])
            pts = _process(mesh, frame, info.width, info.height, quiet=i < 2 or not points_found)
            points_found = points_found or pts is not None
            if pts is not None and pts.shape[0] == N_LANDMARKS:
                points[i] = pts
            count = i + 1
            if on_progress and (i % 5 == 0):
                on_progress(min(1.0, count / max(1, info.frame_count)))
        if mesh is None:  # no frame at all: still fail as a mesh that cannot be made fails
            mesh = made.result()
    finally:
        made.close()
    points = points[:count] if count else points[:0]
    if on_progress:
        on_progress(1.0)
    small = np.stack(thumbs) if thumbs and len(thumbs) == count else None
    keeps = None
    if probe and all(i in probed for i in probe):
        from .grain import blend_keeps

        keeps = blend_keeps(probed[probe[0]], probed[probe[1]])
    return LandmarkTrack(points=points, fps=float(info.fps), width=info.width, height=info.height, info=info,
                         small_frames=small, blend_detail=keeps)


def grain_probe_frames(info: media.VideoInfo) -> tuple[int, int] | None:
    """The two frames the landmark pass keeps gray for the grain measure (grain.probe_frames)."""
    from .defaults import LOOP_DURATION_S
    from .grain import probe_frames

    return probe_frames(float(info.fps), info.frame_count, LOOP_DURATION_S)


def grain_gray(frame: np.ndarray) -> np.ndarray:
    """An RGB analysis frame as gray (BT.601 luma), for the grain measure."""
    import cv2

    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)


def load_or_compute_landmarks(
    path: Path | str,
    info: media.VideoInfo | None = None,
    on_progress: Callable[[float], None] | None = None,
    cancel: CancelToken | None = None,
    use_cache: bool = True,
    content_hash: str | None = None,
    keep_small_frames: bool = False,
) -> LandmarkTrack:
    """Landmarks from the cache when this exact file was analysed before, else computed and cached.

    Without `info`, a cache hit also supplies the file's probe (stored beside the landmarks), so a cached
    analysis neither probes nor decodes; `track.info` is the probe either way. With `keep_small_frames`
    the track carries the small gray frames (`small_frames`, SMALL_FRAME_WIDTH wide) when this pass decoded
    them or the cache holds them; else None.
    """
    if info is None:
        media.check_file(path)
    digest = content_hash or media.content_hash(path)
    cached = _cache_path(digest) if use_cache else None
    use_cache = cached is not None
    if use_cache and cached.exists():
        try:
            with np.load(cached) as data:
                track = LandmarkTrack(
                    points=data["points"],
                    fps=float(data["fps"]),
                    width=int(data["width"]),
                    height=int(data["height"]),
                    content_hash=digest,
                )
                stored = json.loads(str(data["probe"])) if "probe" in data.files else {}
                if keep_small_frames and "small_frames" in data.files:
                    track.small_frames = data["small_frames"]
                if "blend_detail" in data.files:
                    from .grain import BlendDetail

                    track.blend_detail = BlendDetail(*(float(v) for v in data["blend_detail"]))
            if info is None and stored.get("version") == media.PROBE_VERSION:
                info = media.VideoInfo.from_dict(stored["info"], path)
            track.info = info or media.probe(path)
            if on_progress:
                on_progress(1.0)
            return track
        except InputError:  # the file itself is bad (an old cache entry without its probe)
            raise
        except Exception as exc:  # a damaged cache entry is recomputed, never fatal
            log.warning("ignoring unreadable landmark cache %s: %s", cached.name, exc)
    def small_frames_wanted(probed: media.VideoInfo) -> bool:
        return keep_small_frames or (use_cache and probed.frame_count <= CACHED_SMALL_FRAMES_MAX)

    # the mesh is made, and without `info` the decode started, beside the probe
    track = compute_landmarks(path, info, on_progress=on_progress, cancel=cancel,
                              small_width=SMALL_FRAME_WIDTH if keep_small_frames or use_cache else None,
                              small_frames_wanted=small_frames_wanted, mesh_maker=_MeshMaker())
    info = track.info
    cache_small = use_cache and info.frame_count <= CACHED_SMALL_FRAMES_MAX
    track.content_hash, track.info = digest, info
    if use_cache:
        small = {"small_frames": track.small_frames} if cache_small and track.small_frames is not None else {}
        if track.blend_detail is not None:
            small["blend_detail"] = np.array(track.blend_detail, np.float64)
        try:
            with atomic_output(cached, suffix=".npz") as tmp:
                with open(tmp, "wb") as fh:
                    np.savez(  # uncompressed: ~0.6 MB for 150 frames, and no CPU spent compressing
                        fh, points=track.points, fps=track.fps, width=track.width, height=track.height,
                        probe=json.dumps({"version": media.PROBE_VERSION, "info": info.to_dict()}), **small,
                    )
        except (OSError, OutputError) as exc:  # a full or read-only cache: the analysis stands without it
            log.warning("could not write the landmark cache: %s", exc)
    if not keep_small_frames:
        track.small_frames = None
    return track
