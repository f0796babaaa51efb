"""Benchmark of speech -> mouth: TTS latency, mouth drawing per frame, offline `speak` rendering.

- espeak-ng text-to-first-audio latency and full preparation (TTS + cues + silences + RMS), against
  the speech's own duration                                                       target first audio <= 50 ms
- MouthRenderer.render per frame at 720p and 1080p (p50 / p99), against a baseline of the same
  run: one full-frame copy + RGB->BGRA conversion (what a widget pays to show a frame anyway)   target p50 <= 8 ms
- `speak` render of a 720p talking clip (landmarks cached) against the clip's duration, and against a
  plain ffmpeg transcode of the same number of loop frames with the audio (decode + encode only)
                                                                                   target <= 1.0x real time

Run: .venv/bin/python bench/bench_speech.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")

SENTENCE = "Hello, my name is Bob. I am a talking face, and papa made a big map of the moon."


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def bench_tts() -> None:
    from navtalk_desktop.core.speech.espeak_engine import EspeakEngine
    from navtalk_desktop.core.speech.utterance import prepare_utterance

    engine = EspeakEngine()
    engine.synthesize("warm up")  # library load and init are one-time costs
    prepare_utterance("warm up", engine)
    first, full, prep = [], [], []
    duration = 0.0
    for _ in range(10):
        t = time.perf_counter()
        result = engine.synthesize(SENTENCE)
        full.append(time.perf_counter() - t)
        first.append(result.first_audio_latency)
        duration = result.duration
        t = time.perf_counter()
        prepare_utterance(SENTENCE, engine)
        prep.append(time.perf_counter() - t)
    print(f"espeak-ng text -> first audio   p50 {statistics.median(first) * 1000:6.1f} ms "
          f"(speech {duration:.2f} s; target <= 50 ms)")
    print(f"espeak-ng whole synthesis       p50 {statistics.median(full) * 1000:6.1f} ms  "
          f"ratio to speech duration {statistics.median(full) / duration:6.3f}x")
    print(f"prepare_utterance (TTS+cues+silences+RMS) p50 {statistics.median(prep) * 1000:6.1f} ms  "
          f"ratio {statistics.median(prep) / duration:6.3f}x")


def bench_render(width: int, height: int) -> None:
    import cv2
    import numpy as np

    from navtalk_desktop.core.animator import fit_to_size, load_rgb
    from navtalk_desktop.core.landmarks import landmarks_of_image
    from navtalk_desktop.core.mouth.params import viseme_params
    from navtalk_desktop.core.mouth.renderer import MouthRenderer
    from navtalk_desktop.core.resources import sample_portrait
    from navtalk_desktop.core.speech.visemes import VISEMES

    frame = fit_to_size(load_rgb(sample_portrait()), width, height)
    points = landmarks_of_image(frame)
    renderer = MouthRenderer(points[None])
    poses = [viseme_params(v, w) for v in VISEMES[1:] for w in (0.5, 1.0)]
    renderer.render(frame, 0, poses[0])
    times, base = [], []
    for i in range(300):
        t = time.perf_counter()
        renderer.render(frame, 0, poses[i % len(poses)])
        times.append(time.perf_counter() - t)
        t = time.perf_counter()
        cv2.cvtColor(frame.copy(), cv2.COLOR_RGB2BGRA)
        base.append(time.perf_counter() - t)
    mouth = float(np.linalg.norm(points[291] - points[61]))
    p50, p99 = statistics.median(times), percentile(times, 99)
    print(f"MouthRenderer.render {width}x{height} (mouth {mouth:.0f} px)  p50 {p50 * 1000:5.2f} ms  "
          f"p99 {p99 * 1000:5.2f} ms  baseline frame copy+convert p50 {statistics.median(base) * 1000:5.2f} ms  "
          f"ratio {p50 / statistics.median(base):5.2f}x (target p50 <= 8 ms)")


def bench_speak(work: Path) -> None:
    from navtalk_desktop.core import ffmpeg, media
    from navtalk_desktop.core.animator import AnimationSpec, render_face_video
    from navtalk_desktop.core.landmarks import load_or_compute_landmarks
    from navtalk_desktop.core.resources import sample_portrait
    from navtalk_desktop.core.speech.audio import write_wav
    from navtalk_desktop.core.speech.utterance import prepare_utterance
    from navtalk_desktop.core.talk_render import render_talk_video

    loop = work / "loop_720p.mp4"  # a vertical 720p avatar loop (the animator needs the whole face in frame)
    render_face_video(sample_portrait(), loop, AnimationSpec(width=720, height=1280, fps=25, duration=4.0))
    info = media.probe(loop)
    load_or_compute_landmarks(loop)  # the loop's landmarks come from the analysis cache in the app
    utterance = prepare_utterance(SENTENCE, "espeak")
    result = render_talk_video(loop, utterance, work / "talk.mp4")
    wav = write_wav(work / "speech.wav", utterance.audio, utterance.sample_rate)
    t = time.perf_counter()
    subprocess.run([ffmpeg.ffmpeg_exe(), "-v", "error", "-y", "-stream_loop", "-1", "-i", str(loop), "-i", str(wav),
                    "-map", "0:v", "-map", "1:a", "-frames:v", str(result.frame_count), "-c:v", "libx264",
                    "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p", "-c:a", "aac",
                    str(work / "plain.mp4")], check=True)
    plain = time.perf_counter() - t
    print(f"speak render {info.width}x{info.height}: {result.frame_count} frames, clip {result.duration:.2f} s, "
          f"rendered in {result.render_seconds:.2f} s = {result.render_seconds / result.duration:5.2f}x real time "
          f"(target <= 1.0); plain transcode {plain:.2f} s, ratio {result.render_seconds / plain:5.2f}x")


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="navtalk-bench-speech-"))
    os.environ["NAVTALK_CACHE_DIR"] = str(work / "cache")
    bench_tts()
    bench_render(1280, 720)
    bench_render(1920, 1080)
    bench_speak(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
