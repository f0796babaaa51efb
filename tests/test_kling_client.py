"""The Kling client and generation pipeline against the simulator over loopback: several models, auth,
typed errors, and every injected fault survived with the same final video and no second paid task."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from kling_helpers import (FAST_POLL, FAST_RETRY, TEST_ACCESS_KEY, TEST_API_KEY, creds_for_tests,  # noqa: F401
                           fast_config, isolated_dirs, make_client, make_generator, portrait_320, render_cache,
                           sha256, simulator)
from navtalk_desktop.core.cancel import CancelToken
from navtalk_desktop.core.errors import CancelledError
from navtalk_desktop.core.jobs import JobStore
from navtalk_desktop.core.kling.auth import Credentials, TokenProvider
from navtalk_desktop.core.kling.client import CreateTaskRequest, KlingClient, PollPolicy, RetryPolicy
from navtalk_desktop.core.kling.errors import (KlingAuthError, KlingParameterError, KlingTaskFailed,
                                               KlingTimeoutError)
from navtalk_desktop.core.kling.generation import GenerationRequest, KlingGenerator
from navtalk_desktop.core.kling.preflight import prepare_image
from navtalk_desktop.core.media import probe
from navtalk_desktop.simulator import start_simulator


def _generate(sim, portrait, out, credentials=None, **kw):
    request = dict(model="kling-v3", mode="std", duration="3")
    request.update(kw)
    gen = make_generator(sim, credentials)
    return gen.generate(GenerationRequest(image=portrait, output=out, **request))


def _reference(sim):
    """The video the simulator rendered (every successful task of one portrait shares it)."""
    paths = {t.video_path for t in sim.registry.tasks() if t.video_path}
    assert len(paths) == 1
    return sha256(paths.pop())


@pytest.mark.parametrize("model,mode,duration,loop_tail,cfg,fps", [
    ("kling-v1", "std", "5", True, 0.5, 30),
    ("kling-v2-1", "pro", "5", True, None, 24),
    ("kling-v2-master", "pro", "5", False, 0.5, 24),
    ("kling-v3", "std", "3", False, None, 24),
])
def test_happy_path_several_models(simulator, portrait_320, isolated_dirs, tmp_path, model, mode, duration,
                                   loop_tail, cfg, fps):
    progress = []
    gen = make_generator(simulator)
    out = tmp_path / "out.mp4"
    result = gen.generate(GenerationRequest(image=portrait_320, output=out, model=model, mode=mode,
                                            duration=duration, loop_tail=loop_tail, cfg_scale=cfg),
                          on_progress=progress.append)
    info = probe(out)
    assert float(info.fps) == fps and abs(info.duration - int(duration)) < 0.05
    assert result.video == out and sha256(out) == _reference(simulator)
    body = simulator.stats.create_bodies[0]
    assert body["model_name"] == model and body["duration"] == duration
    assert ("image_tail" in body) is loop_tail
    assert ("cfg_scale" in body) is (cfg is not None and model == "kling-v1")
    assert ("mode" in body) is (model != "kling-v2-master")
    assert not body["image"].startswith("data:")
    job = result.job
    assert job.stage == "done" and job.task_id and job.external_task_id == body["external_task_id"]
    assert job.local_path and sha256(job.local_path) == sha256(out) and job.output_path == str(out.resolve())
    stages = [p.stage for p in progress]
    for stage in ("preflight", "creating", "downloading", "verifying", "done"):
        assert stage in stages
    assert {"submitted", "processing"} & set(stages)
    elapsed = [p.elapsed for p in progress if p.stage in ("submitted", "processing", "downloading")]
    assert elapsed == sorted(elapsed)
    last_download = [p for p in progress if p.stage == "downloading"][-1]
    assert last_download.bytes_done == last_download.bytes_total == out.stat().st_size
    assert progress[-1].fraction == 1.0 and all(0 <= p.fraction <= 1 for p in progress)
    assert simulator.registry.created_count == 1


def test_static_api_key_end_to_end(simulator, portrait_320, isolated_dirs, tmp_path):
    result = _generate(simulator, portrait_320, tmp_path / "o.mp4", Credentials(api_key=TEST_API_KEY))
    assert result.job.stage == "done"


def test_wrong_secret_refreshes_once_then_fails(simulator):
    wrong = Credentials(access_key=TEST_ACCESS_KEY, secret_key="wrong-but-long-secret-key-0123456789")
    client = make_client(simulator, wrong)
    with pytest.raises(KlingAuthError, match=r"authorization is invalid.*code 1002") as err:
        client.list_tasks()
    assert not err.value.retryable and err.value.http_status == 401
    assert simulator.stats.error_codes == [1002, 1002]  # one fresh token, then give up


def test_expired_cached_token_is_regenerated(simulator):
    clock = {"offset": -4000.0}
    provider = TokenProvider(creds_for_tests(), clock=lambda: time.time() + clock["offset"])
    provider.bearer()  # cached token signed "an hour ago": already expired
    clock["offset"] = 0.0
    provider._expires_at = time.time() + 3600  # the cache still believes it is valid (e.g. after sleep)
    client = make_client(simulator, None)
    client.tokens = provider
    assert client.list_tasks() == []
    assert simulator.stats.error_codes == [1004]


def test_clock_ahead_gives_a_clock_hint_after_one_fresh_token(simulator):
    client = make_client(simulator)
    client.tokens = TokenProvider(creds_for_tests(), clock=lambda: time.time() + 3600)  # clock an hour fast
    with pytest.raises(KlingAuthError, match=r"not yet valid \(check the computer's clock\).*code 1003") as err:
        client.list_tasks()
    assert err.value.refresh_token and not err.value.retryable
    assert simulator.stats.error_codes == [1003, 1003]


def test_unknown_static_key_does_not_loop(simulator):
    with pytest.raises(KlingAuthError):
        make_client(simulator, Credentials(api_key="nope-nope-nope")).list_tasks()
    assert simulator.stats.api_requests == 1


class _RawRequest(CreateTaskRequest):
    """Sends a body as given, to see the server's own validation through the client."""

    def __init__(self, body):
        super().__init__(image_base64="", model="kling-v1", mode="std", duration="5")
        self.body = body

    def to_body(self):
        return self.body


@pytest.mark.parametrize("change,message", [
    ({"image": "data:image/png;base64,AAAA"}, "File is not in a valid base64 format"),
    ({"duration": 5}, "duration must be a string"),
    ({"mode": "std", "image_tail": "SAME"}, "not supported with image_tail"),
    ({"model_name": "kling-v7"}, "model_name is invalid"),
])
def test_server_validation_errors_are_typed_and_not_retried(simulator, portrait_320, change, message):
    body = {"model_name": "kling-v2-1", "mode": "pro", "duration": "5",
            "image": prepare_image(portrait_320).base64(), **change}
    if body.get("image_tail") == "SAME":
        body["image_tail"] = body["image"]
    with pytest.raises(KlingParameterError, match=message) as err:
        make_client(simulator).create_task(_RawRequest(body))
    assert err.value.code == 1201 and not err.value.retryable
    assert simulator.stats.create_requests == 1 and simulator.registry.created_count == 0


FAULTS = {
    "5xx": dict(server_errors=4),
    "429": dict(rate_limits=2),
    "lost create answer": dict(lost_create_answers=1),
    "slow answer": dict(slow_answers=1, slow_seconds=1.5),
    "dropped downloads": dict(dropped_downloads=2),
    "truncated video": dict(truncated_downloads=1),
}


@pytest.mark.parametrize("name", list(FAULTS))
def test_each_fault_is_survived_with_the_same_video_and_one_task(simulator, portrait_320, isolated_dirs,
                                                                 tmp_path, name):
    reference = _generate(simulator, portrait_320, tmp_path / "reference.mp4")
    expected = sha256(reference.video)
    simulator.registry.created_count = 0
    simulator.stats.downloads.clear()
    simulator.stats.create_requests = 0
    simulator.faults.set(**FAULTS[name])
    timeout = httpx.Timeout(0.7) if name == "slow answer" else None
    gen = KlingGenerator(make_client(simulator, **({"timeout": timeout} if timeout else {})), JobStore(),
                         poll=FAST_POLL, download_retry=FAST_RETRY)
    out = tmp_path / "faulty.mp4"
    result = gen.generate(GenerationRequest(image=portrait_320, output=out, model="kling-v3", mode="std",
                                            duration="3"), reuse_unfinished=False)
    assert sha256(out) == expected and result.job.stage == "done"
    assert simulator.registry.created_count == 1, "a second paid task was created"
    faults = simulator.faults
    assert faults.server_errors == faults.rate_limits == faults.lost_create_answers == 0
    assert faults.slow_answers == faults.dropped_downloads == faults.truncated_downloads == 0
    downloads = simulator.stats.downloads
    if name == "dropped downloads":
        assert any(d.range_start and d.range_start > 0 and d.status == 206 for d in downloads)
    if name == "truncated video":
        assert len([d for d in downloads if d.range_start is None]) == 2  # damaged copy discarded, fetched again
    if name == "5xx":
        assert {5000, 5001, 5002} <= set(simulator.stats.error_codes)
    if name == "lost create answer":
        assert simulator.stats.create_requests == 1  # found by external_task_id instead of sent again


def test_task_that_never_finishes_times_out_then_resumes(simulator, portrait_320, isolated_dirs, tmp_path):
    simulator.faults.set(never_finish=True)
    store = JobStore()
    gen = KlingGenerator(make_client(simulator), store, poll=PollPolicy(0.05, 1.5, 0.2, timeout=1.0),
                         download_retry=FAST_RETRY)
    out = tmp_path / "o.mp4"
    request = GenerationRequest(image=portrait_320, output=out, model="kling-v3", mode="std", duration="3")
    with pytest.raises(KlingTimeoutError, match="still 'processing'.*can be resumed"):
        gen.generate(request)
    job = store.list()[0]
    assert job.stage == "polling" and job.resumable and job.task_status == "processing"
    assert job.error_kind == "KlingTimeoutError" and not out.exists()
    simulator.faults.set(never_finish=False)
    result = gen.generate(request)  # the identical request resumes the same job
    assert result.resumed and result.job.id == job.id and result.job.stage == "done"
    assert simulator.registry.created_count == 1 and sha256(out) == _reference(simulator)


def test_concurrency_limit_is_waited_out(render_cache, portrait_320, isolated_dirs, tmp_path):
    config = fast_config(render_cache, max_concurrent=1, processing_seconds=0.6)
    with start_simulator(config=config) as sim:
        patient = RetryPolicy(attempts=30, initial=0.1, factor=1.5, max_delay=0.3)
        results = {}

        def run(name):
            gen = KlingGenerator(make_client(sim, retry=patient), JobStore(), poll=FAST_POLL)
            results[name] = gen.generate(GenerationRequest(image=portrait_320, output=tmp_path / f"{name}.mp4",
                                                           model="kling-v3", mode="std", duration="3"),
                                         reuse_unfinished=False)

        first = threading.Thread(target=run, args=("a",))
        first.start()
        assert sim.registry.task_created.wait(10)
        run("b")
        first.join(30)
        assert results["a"].job.stage == results["b"].job.stage == "done"
        assert 1303 in sim.stats.error_codes and sim.registry.created_count == 2


def test_job_row_is_written_before_the_create_request(simulator, portrait_320, isolated_dirs, tmp_path):
    simulator.faults.set(create_answer_delay=1.0)
    store = JobStore()
    gen = KlingGenerator(make_client(simulator), store, poll=FAST_POLL, download_retry=FAST_RETRY)
    worker = threading.Thread(target=gen.generate, args=(GenerationRequest(
        image=portrait_320, output=tmp_path / "o.mp4", model="kling-v3", mode="std", duration="3"),))
    worker.start()
    assert simulator.registry.task_created.wait(10)
    seen = JobStore().list()  # a second connection, as a restarted process would open
    sent_ext = simulator.stats.create_bodies[0]["external_task_id"]
    assert len(seen) == 1 and seen[0].external_task_id == sent_ext
    assert seen[0].task_id is None and seen[0].create_attempts == 1 and seen[0].stage == "creating"
    worker.join(30)
    done = store.get(seen[0].id)
    assert done.task_id == simulator.registry.get(sent_ext).task_id and done.stage == "done"


def test_failed_task_is_reported_with_reason(simulator, portrait_320, isolated_dirs, tmp_path):
    from PIL import Image

    small = tmp_path / "small.png"
    Image.open(portrait_320).resize((320, 120)).save(small)  # 2.67:1 — Kling accepts it, then fails it
    client = make_client(simulator)
    body = {"model_name": "kling-v3", "mode": "std", "duration": "3", "prompt": "blink once",
            "image": prepare_image(portrait_320).base64()}
    import base64

    body["image"] = base64.b64encode(small.read_bytes()).decode()
    task = client.create_task(_RawRequest(body))
    store = JobStore()
    job = store.create(external_task_id="manual-1", task_id=task.task_id, stage="polling",
                       base_url=client.base_url, model="kling-v3", mode="std", duration="3",
                       source_image=str(small), upload_image=str(tmp_path / "upload.png"), image_sha256="x")
    gen = KlingGenerator(client, store, poll=FAST_POLL)
    with pytest.raises(KlingTaskFailed, match="Image pixel is invalid.*at least 300 px"):
        gen.resume(job.id)
    failed = store.get(job.id)
    assert failed.stage == "failed" and failed.task_status_msg == "Image pixel is invalid" and not failed.resumable


def test_cancel_keeps_the_job_resumable(simulator, portrait_320, isolated_dirs, tmp_path):
    simulator.config.processing_seconds = 1.5
    cancel = CancelToken()
    store = JobStore()
    gen = KlingGenerator(make_client(simulator), store, poll=FAST_POLL, download_retry=FAST_RETRY)

    def on_progress(p):
        if p.stage == "processing":
            cancel.cancel()

    request = GenerationRequest(image=portrait_320, output=tmp_path / "o.mp4", model="kling-v3", mode="std",
                                duration="3")
    started = time.monotonic()
    with pytest.raises(CancelledError):
        gen.generate(request, on_progress=on_progress, cancel=cancel)
    assert time.monotonic() - started < 1.5
    job = store.list()[0]
    assert job.stage == "polling" and job.task_id and "cancelled" in job.error_message
    result = gen.resume(job.id)
    assert result.job.stage == "done" and simulator.registry.created_count == 1


def test_client_never_disables_tls_verification():
    client = KlingClient(creds_for_tests())
    try:
        pool = client._http._transport._pool
        assert pool._ssl_context.verify_mode.name == "CERT_REQUIRED"
        assert client.base_url == "https://api-singapore.klingai.com"
    finally:
        client.close()


def test_polling_outlasts_a_long_outage(simulator, portrait_320, isolated_dirs, tmp_path):
    simulator.config.processing_seconds = 1.0
    gen = make_generator(simulator)
    gen.client.retry = RetryPolicy(attempts=2, initial=0.01, max_delay=0.01)  # each call gives up fast...
    request = GenerationRequest(image=portrait_320, output=tmp_path / "o.mp4", model="kling-v3", mode="std",
                                duration="3")
    seen = []

    def on_progress(p):
        if p.stage in ("submitted", "processing") and not seen:
            seen.append(p)
            simulator.faults.set(server_errors=12)  # ...and the API fails a dozen times in a row

    result = gen.generate(request, on_progress=on_progress)
    assert seen and result.job.stage == "done" and simulator.faults.server_errors == 0
    assert sum(code >= 5000 for code in simulator.stats.error_codes) == 12
    assert simulator.registry.created_count == 1
