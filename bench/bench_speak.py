"""Benchmark of `navtalk-loop speak`: the whole process against the length of the speech it renders.

Target: faster than real time (whole-process wall time / audio duration < 1; at 1080p aim <= 0.8), on the
sample portrait's loop at 512² and 1080p and on the quietest 2 s of both fixture clips, each the median of
RUNS processes: cold (a fresh cache, so the run analyses the loop with Face Mesh first) and warm (cached,
as on every later speak).
The machine may be shared, so each run also reports its CPU time (the process and its ffmpeg children,
from getrusage), which does not count waits for a core.

Then where the time goes, measured in this process on the same loop and utterance: decoding the loop
passes, drawing the mouth on every output frame, and encoding (the same frames fed to the same ffmpeg
encode without a mouth: the baseline the talking render is compared with).

Run: .venv/bin/python bench/bench_speak.py [--only NAME] (NAME: part of a loop's name, e.g. 1080p)
"""

from __future__ import annotations

import math
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("NAVTALK_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
TEXT = "Hello, my name is Bob. I am a talking face, and papa made a big map of the moon."
RUNS = 3


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def speak_once(loop: Path, out: Path, env: dict) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one `navtalk-loop speak` process, ffmpeg children included."""
    cmd = [sys.executable, "-c", "import sys; from navtalk_desktop.cli.main import main; sys.exit(main())",
           "speak", str(loop), TEXT, "--out", str(out), "--engine", "espeak"]
    cpu, t = children_cpu(), time.perf_counter()
    subprocess.run(cmd, check=True, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t, children_cpu() - cpu


def stages(loop: Path, utterance, work: Path) -> dict[str, float]:
    """Seconds spent decoding, drawing and encoding the frames of one talking render of `loop`."""
    from navtalk_desktop.core.landmarks import load_or_compute_landmarks
    from navtalk_desktop.core.media import probe
    from navtalk_desktop.core.mouth.renderer import MouthRenderer
    from navtalk_desktop.core.talk_frames import I420Painter, loop_frames
    from navtalk_desktop.core.talk_render import TAIL_S, render_talk_video

    info = probe(loop)
    track = load_or_compute_landmarks(loop, info)
    n_out = max(1, int(math.ceil((utterance.duration + TAIL_S) * float(info.fps))))
    t = time.perf_counter()
    frames = [frame for _, frame in loop_frames(loop, info, n_out, yuv420=True)]  # as the render decodes
    decode = time.perf_counter() - t
    painter = I420Painter(MouthRenderer(track), info.width, info.height)
    t, c = time.perf_counter(), time.thread_time()
    for i, frame in enumerate(frames):
        painter.paint(frame, i % track.frame_count, utterance.mouth_params_at((i + 0.5) / float(info.fps)))
    draw, draw_cpu = time.perf_counter() - t, time.thread_time() - c

    class _Unchanged:  # the same render path with no mouth: decode + encode + mux only
        def region_box(self, index, shape):
            return None

        def render(self, frame, index, params, inplace=False):
            return frame

    t = time.perf_counter()
    render_talk_video(loop, utterance, work / "plain.mp4", track=track, renderer=_Unchanged())
    plain = time.perf_counter() - t
    t = time.perf_counter()
    render_talk_video(loop, utterance, work / "talk.mp4", track=track)
    talk = time.perf_counter() - t
    return {"frames": n_out, "decode": decode, "draw": draw, "draw_cpu": draw_cpu, "plain": plain, "talk": talk}


def main() -> int:
    from navtalk_desktop.core.animator import AnimationSpec, render_face_video
    from navtalk_desktop.core.mouth import measure
    from navtalk_desktop.core.resources import sample_portrait
    from navtalk_desktop.core.speech.utterance import prepare_utterance

    utterance = prepare_utterance(TEXT, "espeak")
    audio = utterance.duration
    print(f"speech: {audio:.2f} s (espeak-ng); load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="navtalk-bench-speak-") as tmp:
        work = Path(tmp)
        os.environ["NAVTALK_CACHE_DIR"] = str(work / "cache")
        env = dict(os.environ)
        loops = {"sample portrait 512": work / "portrait.mp4", "sample portrait 1080p": work / "portrait1080.mp4"}
        render_face_video(sample_portrait(), loops["sample portrait 512"],
                          AnimationSpec(width=512, height=512, fps=25, duration=2.0))
        render_face_video(sample_portrait(), loops["sample portrait 1080p"],
                          AnimationSpec(width=1920, height=1080, fps=25, duration=2.0))
        for name in ("liveportrait_d12.mp4", "liveportrait_d18.mp4"):
            loops[name] = measure.quiet_loop(ROOT / "tests" / "fixtures" / name, work / f"quiet_{name}")
        only = sys.argv[sys.argv.index("--only") + 1] if "--only" in sys.argv else ""
        for index, (name, loop) in enumerate(loops.items()):
            if only not in name:
                continue
            for run in ("cold", "warm"):
                walls, cpus = [], []
                for k in range(RUNS):
                    if run == "cold":  # a cache of its own: the landmarks are computed in this run
                        env["NAVTALK_CACHE_DIR"] = str(work / f"cold_{index}_{k}")
                    else:
                        env["NAVTALK_CACHE_DIR"] = os.environ["NAVTALK_CACHE_DIR"]
                        if k == 0:  # fill the shared cache first, untimed
                            speak_once(loop, work / f"out_{loop.stem}_fill.mp4", env)
                    wall, cpu = speak_once(loop, work / f"out_{loop.stem}_{run}.mp4", env)
                    walls.append(wall)
                    cpus.append(cpu)
                wall, cpu = statistics.median(walls), statistics.median(cpus)
                print(f"{name:22s} speak ({run}, median of {RUNS}): whole process {wall:5.2f} s wall, {cpu:5.2f} s CPU "
                      f"for {audio:.2f} s of speech | ratio {wall / audio:4.2f} wall (runs "
                      f"{', '.join(f'{w / audio:.2f}' for w in walls)}), {cpu / audio:4.2f} CPU "
                      f"(< 1 = faster than real time: {'ok' if wall < audio else 'SLOWER'}) | load {os.getloadavg()[0]:.1f}")
            s = stages(loop, utterance, work)
            print(f"{name:22s} stages for {s['frames']} frames: decode {s['decode']:5.2f} s | mouth drawing "
                  f"{s['draw']:5.2f} s ({s['draw_cpu']:5.2f} s CPU, {1000 * s['draw'] / s['frames']:4.1f} ms/frame) | "
                  f"render without mouth (decode+encode+mux, baseline) {s['plain']:5.2f} s | with mouth "
                  f"{s['talk']:5.2f} s | ratio {s['talk'] / s['plain']:4.2f}x baseline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
