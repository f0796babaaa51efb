"""Benchmark: online speech streamed vs waited for — time from Speak to the first sound.

edge-tts' real client against the loopback stand-in of its service (tests/edge_helpers.py), which sends a
sentence's audio paced at 3x real time, as a service synthesising it would. Baseline, same run: the
non-streaming path (`EdgeTtsEngine.synthesize`: wait for the last chunk, then decode). Medians of 3.
Target: first sound after ≤ 0.5x the baseline's wait.

Run: .venv/bin/python bench/bench_speech_streaming.py
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

SENTENCE = "Hello, my name is Bob. I am a talking face, and papa made a big map of the moon for my brother."
PACE = 3.0


def main() -> int:
    import pytest
    from edge_helpers import serve_edge

    from navtalk_desktop.core.speech.edge_engine import EdgeTtsEngine
    from navtalk_desktop.core.speech.edge_stream import stream_utterances

    async def first_update() -> tuple[float, float]:
        start = time.perf_counter()
        first = None
        async for update in stream_utterances(SENTENCE):
            if first is None:
                first = time.perf_counter() - start
        return first, time.perf_counter() - start

    monkeypatch = pytest.MonkeyPatch()
    service = serve_edge(monkeypatch, pace=PACE)
    try:
        streamed, whole, total = [], [], []
        for _ in range(3):
            first, end = asyncio.run(first_update())
            streamed.append(first)
            total.append(end)
            start = time.perf_counter()
            speech = EdgeTtsEngine().synthesize(SENTENCE)
            whole.append(time.perf_counter() - start)
    finally:
        service.__exit__(None, None, None)
        monkeypatch.undo()
    s, w = statistics.median(streamed), statistics.median(whole)
    print(f"sentence {speech.duration:.2f} s of audio, service pacing {PACE:.0f}x real time")
    print(f"waited for (baseline): first sound after {w:.2f} s")
    print(f"streamed:              first sound after {s:.2f} s (stream done after {statistics.median(total):.2f} s)")
    print(f"ratio streamed / waited: {s / w:.2f}  (target <= 0.50)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
