"""Result download on its own: Range resume from a kept partial file, an already complete partial,
a partial that does not match, an expired URL, and the client's liberal external-id lookup."""

from __future__ import annotations

import pytest

from kling_helpers import (FAST_RETRY, fast_config, isolated_dirs, make_client, make_generator,  # noqa: F401
                           portrait_320, render_cache, sha256, simulator)
from navtalk_desktop.core.jobs import JobStore
from navtalk_desktop.core.kling.client import CreateTaskRequest
from navtalk_desktop.core.kling.download import download_video, part_path_for
from navtalk_desktop.core.kling.errors import KlingResultGoneError
from navtalk_desktop.core.kling.generation import GenerationRequest
from navtalk_desktop.core.kling.preflight import prepare_image
from navtalk_desktop.simulator import start_simulator


@pytest.fixture
def finished(simulator, portrait_320, isolated_dirs, tmp_path):
    """A succeeded task: (video URL, the served file)."""
    result = make_generator(simulator).generate(GenerationRequest(image=portrait_320, output=tmp_path / "ref.mp4",
                                                                  model="kling-v3", mode="std", duration="3"))
    simulator.stats.downloads.clear()
    return result.job.video_url, tmp_path / "ref.mp4"


def test_resumes_from_a_kept_partial_file(simulator, finished, tmp_path):
    url, reference = finished
    dest = tmp_path / "video.mp4"
    part = part_path_for(dest)
    part.write_bytes(reference.read_bytes()[:50_000])
    seen = []
    info = download_video(url, dest, expected_duration=3.0, retry=FAST_RETRY, on_progress=lambda d, t: seen.append(d))
    assert sha256(dest) == sha256(reference) and not part.exists()
    assert [(d.range_start, d.status) for d in simulator.stats.downloads] == [(50_000, 206)]
    assert seen[0] == 50_000 and seen[-1] == reference.stat().st_size
    assert info.frame_count == 72 and info.path == str(dest)


def test_complete_partial_only_needs_verification(simulator, finished, tmp_path):
    url, reference = finished
    dest = tmp_path / "video.mp4"
    part_path_for(dest).write_bytes(reference.read_bytes())
    download_video(url, dest, expected_duration=3.0, retry=FAST_RETRY)
    assert sha256(dest) == sha256(reference)
    assert [d.status for d in simulator.stats.downloads] == [416]  # nothing left to fetch


def test_partial_that_does_not_match_starts_over(simulator, finished, tmp_path):
    url, reference = finished
    dest = tmp_path / "video.mp4"
    part_path_for(dest).write_bytes(b"\x00" * (reference.stat().st_size + 10))  # longer than the real file
    download_video(url, dest, expected_duration=3.0, retry=FAST_RETRY)
    assert sha256(dest) == sha256(reference)
    assert [d.status for d in simulator.stats.downloads] == [416, 200]


def test_wrong_length_video_is_refused(simulator, finished, tmp_path):
    url, _ = finished
    with pytest.raises(Exception, match="lasts 3.00 s, expected about 5.0 s"):
        download_video(url, tmp_path / "video.mp4", expected_duration=5.0, retry=FAST_RETRY)
    assert not (tmp_path / "video.mp4").exists() and not part_path_for(tmp_path / "video.mp4").exists()


def test_expired_url_fails_the_job_for_good(simulator, portrait_320, isolated_dirs, tmp_path):
    store = JobStore()
    gen = make_generator(simulator)
    gen.store = store
    job = store.create(external_task_id="gone-1", task_id="1", stage="downloading", base_url=simulator.base_url,
                       model="kling-v3", mode="std", duration="3", source_image="x",
                       upload_image=str(tmp_path / "u.png"), image_sha256="x",
                       video_url=simulator.base_url + "/videos/404404.mp4", local_path=str(tmp_path / "r.mp4"))
    with pytest.raises(KlingResultGoneError, match="Kling deletes results after 30 days"):
        gen.resume(job.id)
    assert store.get(job.id).stage == "failed"


def test_external_id_lookup_falls_back_to_the_query_form(render_cache, portrait_320):
    with start_simulator(config=fast_config(render_cache, external_id_in_path=False)) as sim:
        client = make_client(sim)
        created = client.create_task(CreateTaskRequest(image_base64=prepare_image(portrait_320).base64(),
                                                       model="kling-v3", mode="std", duration="3",
                                                       prompt="blink once", external_task_id="ext-q-1"))
        found = client.find_by_external_id("ext-q-1")
        assert found is not None and found.task_id == created.task_id
        assert 1203 in sim.stats.error_codes  # the path form was tried first and refused
        assert client.find_by_external_id("ext-missing") is None


def test_a_dropped_download_keeps_every_byte_that_arrived(simulator, finished, tmp_path):
    """Each drop comes well before 64 KiB: what arrived is kept and the next request starts right after it,
    so no byte is fetched twice and the offset never stalls."""
    url, reference = finished
    size = reference.stat().st_size
    simulator.faults.set(dropped_downloads=4, drop_fraction=0.25)
    dest = tmp_path / "video.mp4"
    download_video(url, dest, expected_duration=3.0, retry=FAST_RETRY)
    assert sha256(dest) == sha256(reference)
    records = simulator.stats.downloads
    starts = [d.range_start or 0 for d in records]
    assert len(records) == 5 and starts == sorted(set(starts))  # strictly forward, never back to 0
    assert all(b - a < 64 * 1024 for a, b in zip(starts, starts[1:]))  # drops inside one old 64 KiB chunk
    assert sum(d.bytes_sent for d in records) == size  # nothing received was thrown away


def test_a_video_host_that_is_gone_is_named_with_the_cause(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    from navtalk_desktop.core.kling.errors import KlingDownloadError

    with pytest.raises(KlingDownloadError) as info:
        download_video(f"http://127.0.0.1:{port}/videos/1.mp4", tmp_path / "v.mp4", retry=FAST_RETRY)
    text = str(info.value)
    assert f"cannot reach 127.0.0.1:{port}: nothing is listening there" in text and "ConnectError" not in text
    assert not (tmp_path / "v.mp4").exists()


def test_the_download_phase_has_one_deadline(simulator, finished, tmp_path):
    import time

    from navtalk_desktop.core.kling.client import RetryPolicy
    from navtalk_desktop.core.kling.errors import KlingDownloadError

    url, _ = finished
    simulator.faults.set(dropped_downloads=100, drop_fraction=0.0)
    started = time.monotonic()
    with pytest.raises(KlingDownloadError, match="downloading the video failed"):
        download_video(url, tmp_path / "v.mp4", retry=RetryPolicy(attempts=100, initial=0.3, factor=1.0),
                       deadline_seconds=1.5)
    assert time.monotonic() - started < 3.0  # not 100 × 0.3 s
