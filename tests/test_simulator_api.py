"""The local Kling simulator over real HTTP: routes, envelope, auth codes, parameter rules, late failures,
concurrency, paging and the unauthenticated, Range-capable video URL."""

from __future__ import annotations

import base64
import io
import time

import httpx
import jwt
import numpy as np
import pytest
from PIL import Image

from kling_helpers import (TEST_ACCESS_KEY, TEST_API_KEY, TEST_SECRET_KEY, fast_config, portrait_320,  # noqa: F401
                           render_cache, simulator)
from navtalk_desktop.core.kling.auth import make_jwt
from navtalk_desktop.core.media import probe
from navtalk_desktop.simulator import start_simulator

PATH = "/v1/videos/image2video"


def _auth(token=None):
    return {"Authorization": f"Bearer {token or make_jwt(TEST_ACCESS_KEY, TEST_SECRET_KEY)}"}


def _b64(path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def _post(sim, body, headers=None):
    return httpx.post(sim.base_url + PATH, json=body, headers=_auth() if headers is None else headers, timeout=10)


def _get(sim, path, headers=None, **kw):
    return httpx.get(sim.base_url + path, headers=_auth() if headers is None else headers, timeout=10, **kw)


def _wait(sim, task_id, until=("succeed", "failed"), timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = _get(sim, f"{PATH}/{task_id}").json()["data"]
        if data["task_status"] in until:
            return data
        time.sleep(0.05)
    raise AssertionError(f"task {task_id} never reached {until}")


@pytest.mark.parametrize("case,headers,code", [
    ("missing", {}, 1001),
    ("not bearer", {"Authorization": "Basic abc"}, 1002),
    ("malformed", {"Authorization": "Bearer not-a-jwt"}, 1002),
    ("bad signature", _auth(make_jwt(TEST_ACCESS_KEY, "wrong-secret-key-of-decent-length-0000")), 1002),
    ("unknown iss", _auth(make_jwt("someone-else", TEST_SECRET_KEY)), 1002),
    ("nbf in future", _auth(make_jwt(TEST_ACCESS_KEY, TEST_SECRET_KEY, now=time.time() + 3600)), 1003),
    ("expired", _auth(make_jwt(TEST_ACCESS_KEY, TEST_SECRET_KEY, now=time.time() - 3600)), 1004),
])
def test_jwt_verification_codes(simulator, case, headers, code):
    resp = _get(simulator, f"{PATH}?pageNum=1&pageSize=5", headers=headers)
    assert resp.status_code == 401, case
    body = resp.json()
    assert body["code"] == code and body["request_id"] and "data" not in body


def test_hs256_only_and_static_api_key(simulator):
    none_alg = jwt.encode({"iss": TEST_ACCESS_KEY, "exp": time.time() + 60, "nbf": time.time() - 5}, None,
                          algorithm="none")
    assert _get(simulator, PATH, headers=_auth(none_alg)).json()["code"] == 1002
    ok = _get(simulator, PATH, headers={"Authorization": f"Bearer {TEST_API_KEY}"})
    assert ok.status_code == 200 and ok.json()["code"] == 0 and ok.json()["data"] == []


def _body(portrait, **kw):
    body = {"model_name": "kling-v2-1", "mode": "pro", "duration": "5", "image": _b64(portrait)}
    body.update(kw)
    return body


@pytest.mark.parametrize("change,message", [
    ({"model_name": "kling-v9"}, "model_name is invalid: kling-v9"),
    ({"mode": "turbo"}, "mode is invalid"),
    ({"duration": 5}, "duration must be a string"),
    ({"duration": "7"}, "duration is invalid for kling-v2-1: 7"),
    ({"image": ""}, "image or image_tail is required"),
    ({"image": "data:image/png;base64,iVBORw0KGgo="}, "File is not in a valid base64 format"),
    ({"image": "%%%not base64%%%"}, "File is not in a valid base64 format"),
    ({"image": base64.b64encode(b"GIF89a" + b"\x00" * 50).decode()}, "image is not a valid image"),
    ({"prompt": "p" * 2501}, "prompt length must not exceed 2500"),
    ({"negative_prompt": "n" * 2501}, "negative_prompt length must not exceed 2500"),
    ({"cfg_scale": 1.5}, "cfg_scale must be a number between 0 and 1"),
    ({"mode": "std", "image_tail": "SELF"}, "model/mode/duration(kling-v2-1/std/5) is not supported with image_tail"),
    ({"model_name": "kling-v2-master", "image_tail": "SELF"}, "Image tail is not supported by the current model"),
    ({"model_name": "kling-v1", "mode": "std", "duration": "10", "image_tail": "SELF"},
     "model/mode/duration(kling-v1/std/10) is not supported with image_tail"),
    ({"image_tail": "SELF", "camera_control": {"type": "simple"}}, "cannot be used at the same time"),
    ({"model_name": "kling-v2-6", "image_tail": "SELF", "sound": "on"}, "sound is not supported with image_tail"),
    ({"model_name": "kling-v3", "mode": "std", "duration": "3"}, "prompt is required for kling-v3"),
    ({"model_name": "kling-v3", "duration": "3", "prompt": "x", "multi_shot": True, "image_tail": "SELF",
      "shot_type": "intelligence"}, "first/end frame generation is not supported with multi_shot"),
    ({"model_name": "kling-v3", "duration": "3", "multi_shot": True}, "shot_type must be customize or intelligence"),
    ({"model_name": "kling-v3", "duration": "5", "multi_shot": True, "shot_type": "customize",
      "multi_prompt": [{"index": 1, "prompt": "a", "duration": "2"}, {"index": 2, "prompt": "b", "duration": "2"}]},
     "multi_prompt durations add up to 4, not the duration 5"),
    ({"model_name": "kling-v3", "duration": "3", "multi_shot": True, "shot_type": "customize",
      "multi_prompt": [{"index": 1, "prompt": "p" * 513, "duration": "3"}]}, "at most 512 characters"),
    ({"multi_shot": True, "shot_type": "intelligence", "prompt": "x"}, "multi_shot is not supported by kling-v2-1"),
    ({"sound": "on"}, "sound is not supported by kling-v2-1"),
    ({"sound": "loud"}, "sound is invalid"),
    ({"model_name": "kling-v2-6", "voice_list": [{"voice_id": "v1"}]}, "voice_list requires sound"),
    ({"model_name": "kling-v2-6", "sound": "on", "voice_list": [{"voice_id": "a"}, {"voice_id": "b"},
                                                                 {"voice_id": "c"}]}, "at most 2 entries"),
    ({"element_list": [{"element_id": 1}]}, "element_list takes at most 3 elements and only on kling-v3"),
    ({"camera_control": {"type": "simple", "config": {"zoom": 5}}},
     "camera_control is only supported with kling-v1-5 in pro mode, 5s duration"),
    ({"model_name": "kling-v1-5", "camera_control": {"type": "simple", "config": {"zoom": 5, "pan": 1}}},
     "exactly one non-zero value"),
    ({"model_name": "kling-v1-5", "camera_control": {"type": "simple", "config": {"zoom": 11}}}, "in [-10, 10]"),
    ({"model_name": "kling-v1-5", "camera_control": {"type": "orbit"}}, "camera_control type must be one of"),
    ({"static_mask": "SELF", "camera_control": {"type": "simple", "config": {"zoom": 5}}},
     "cannot be used at the same time"),
    ({"dynamic_masks": [{"mask": "SELF", "trajectories": [{"x": 1, "y": 1}]}]}, "2 to 77 points"),
    ({"dynamic_masks": [{"mask": "SELF", "trajectories": [{"x": 1, "y": 1}, {"x": 2, "y": 2}]}] * 7},
     "at most 6 groups"),
    ({"watermark_info": True}, "watermark_info must be an object"),
])
def test_parameter_rules(simulator, portrait_320, change, message):
    body = _body(portrait_320, **change)
    for key in ("image_tail", "static_mask"):
        if body.get(key) == "SELF":
            body[key] = body["image"]
    for group in body.get("dynamic_masks") or []:
        group["mask"] = body["image"]
    resp = _post(simulator, body)
    assert resp.status_code == 400
    assert resp.json()["code"] == 1201 and message in resp.json()["message"]
    assert simulator.registry.created_count == 0


def test_png_gif_webp_are_not_accepted_formats(simulator, portrait_320):
    buf = io.BytesIO()
    Image.open(portrait_320).save(buf, "WEBP")
    resp = _post(simulator, _body(portrait_320, image=base64.b64encode(buf.getvalue()).decode()))
    assert resp.status_code == 400 and "only jpg/jpeg/png" in resp.json()["message"]


def test_create_query_list_lifecycle_and_video(simulator, portrait_320):
    resp = _post(simulator, _body(portrait_320, model_name="kling-v1", mode="std", duration="5",
                                  external_task_id="ext-abc", image_tail=_b64(portrait_320)))
    assert resp.status_code == 200
    env = resp.json()
    assert env["code"] == 0 and env["message"] == "SUCCEED" and env["request_id"]
    data = env["data"]
    assert data["task_status"] == "submitted" and data["task_info"] == {"external_task_id": "ext-abc"}
    assert len(data["task_id"]) == 18 and data["task_id"].isdigit()
    assert isinstance(data["created_at"], int) and data["created_at"] > 1e12  # milliseconds
    task_id = data["task_id"]
    seen = _get(simulator, f"{PATH}/{task_id}").json()["data"]
    assert seen["task_status"] in ("submitted", "processing") and seen["task_result"] == {}
    done = _wait(simulator, task_id)
    assert done["task_status"] == "succeed" and done["task_status_msg"] == ""
    video = done["task_result"]["videos"][0]
    assert video["duration"] == "5.0" and video["id"].isdigit()
    # same task through the external id, path form and query form
    assert _get(simulator, f"{PATH}/ext-abc").json()["data"]["task_id"] == task_id
    listed = _get(simulator, PATH, params={"external_task_id": "ext-abc"}).json()["data"]
    assert [t["task_id"] for t in listed] == [task_id]
    assert _get(simulator, PATH, params={"external_task_id": "nope"}).json()["data"] == []
    # video: no auth needed, Range honoured, rendered at the model's fps and requested duration
    url = video["url"]
    full = httpx.get(url, timeout=10)
    assert full.status_code == 200 and full.headers["content-type"] == "video/mp4"
    part = httpx.get(url, headers={"Range": "bytes=100-"}, timeout=10)
    assert part.status_code == 206 and part.content == full.content[100:]
    assert part.headers["content-range"] == f"bytes 100-{len(full.content) - 1}/{len(full.content)}"
    assert httpx.get(url, headers={"Range": f"bytes={len(full.content)}-"}, timeout=10).status_code == 416
    info = probe(simulator.registry.get(task_id).video_path)
    assert float(info.fps) == 30 and abs(info.duration - 5.0) < 0.05 and (info.width, info.height) == (320, 320)


def test_rendered_video_blinks_at_about_one_second(simulator, portrait_320):
    from navtalk_desktop.core.analysis import analyze_video

    resp = _post(simulator, _body(portrait_320, model_name="kling-v3", mode="std", duration="3",
                                     prompt="blink once"))
    task_id = resp.json()["data"]["task_id"]
    assert _wait(simulator, task_id)["task_status"] == "succeed"
    result = analyze_video(simulator.registry.get(task_id).video_path)
    assert result.fps == 24 and result.frame_count == 72 and result.face_fraction == 1.0
    ear = result.ear_mean
    closest = int(np.nanargmin(ear))  # the eyes are most closed about one second in
    assert abs(closest / result.fps - 1.0) < 0.2
    assert ear[closest] < 0.8 * np.nanmedian(ear)


def test_unknown_task_and_wrong_path(simulator):
    resp = _get(simulator, f"{PATH}/123456789012345678")
    assert resp.status_code == 404 and resp.json()["code"] == 1203
    wrong = _get(simulator, "/v1/videos/123456789012345678")  # the classic wrong poll path
    assert wrong.status_code == 404 and wrong.json()["code"] == 1202
    assert httpx.get(simulator.base_url + "/videos/999.mp4", timeout=5).status_code == 404


def test_undersized_image_is_accepted_then_fails_late(simulator, portrait_320, tmp_path):
    small = tmp_path / "small.png"
    Image.open(portrait_320).resize((200, 200)).save(small)
    resp = _post(simulator, _body(small))
    assert resp.status_code == 200  # accepted...
    done = _wait(simulator, resp.json()["data"]["task_id"])
    assert done["task_status"] == "failed" and done["task_status_msg"] == "Image pixel is invalid"
    failed_env = _get(simulator, f"{PATH}/{done['task_id']}").json()
    assert failed_env["code"] == 0 and failed_env["message"] == "SUCCEED" and failed_env["data"]["task_result"] == {}


def test_duplicate_external_id_concurrency_and_paging(render_cache, portrait_320):
    with start_simulator(config=fast_config(render_cache, max_concurrent=2, processing_seconds=30)) as sim:
        ids = []
        for n in range(2):
            resp = _post(sim, _body(portrait_320, external_task_id=f"e{n}"))
            assert resp.status_code == 200
            ids.append(resp.json()["data"]["task_id"])
        dup = _post(sim, _body(portrait_320, external_task_id="e0"))
        assert dup.status_code == 400 and "external_task_id already exists" in dup.json()["message"]
        over = _post(sim, _body(portrait_320, external_task_id="e9"))
        assert over.status_code == 429
        assert over.json() | {"request_id": "x"} == {"code": 1303, "message": "parallel task over resource pack limit",
                                                      "request_id": "x"}
        page1 = _get(sim, PATH, params={"pageNum": 1, "pageSize": 1}).json()["data"]
        page2 = _get(sim, PATH, params={"pageNum": 2, "pageSize": 1}).json()["data"]
        assert [page1[0]["task_id"], page2[0]["task_id"]] == ids[::-1]  # newest first
        bad = _get(sim, PATH, params={"pageNum": 0, "pageSize": 1})
        assert bad.status_code == 400 and bad.json()["code"] == 1201
        assert _get(sim, PATH, params={"pageSize": 501}).status_code == 400


def test_faults_are_switchable_per_run(simulator, portrait_320):
    simulator.faults.set(server_errors=3)
    codes = [_get(simulator, PATH).json()["code"] for _ in range(4)]
    assert codes == [5000, 5001, 5002, 0]
    simulator.faults.set(rate_limits=1)
    limited = _post(simulator, _body(portrait_320))
    assert limited.status_code == 429 and limited.json()["code"] == 1302
    simulator.faults.set(lost_create_answers=1)
    with pytest.raises(httpx.RemoteProtocolError):
        _post(simulator, _body(portrait_320, external_task_id="lost-1"))
    assert simulator.registry.get("lost-1") is not None  # created although the answer was lost
    simulator.faults.set(slow_answers=1, slow_seconds=0.5)
    started = time.monotonic()
    _get(simulator, PATH)
    assert time.monotonic() - started >= 0.5


def test_simulator_refuses_non_loopback_hosts(render_cache):
    with pytest.raises(ValueError, match="loopback"):
        start_simulator(config=fast_config(render_cache, host="0.0.0.0"))


def test_callbacks_post_each_status_change_to_a_loopback_url(simulator, portrait_320):
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    hook = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{hook.server_address[1]}/kling"
        task_id = _post(simulator, _body(portrait_320, model_name="kling-v3", mode="std", duration="3",
                                         prompt="blink once", callback_url=url)).json()["data"]["task_id"]
        _wait(simulator, task_id)
        deadline = time.monotonic() + 5
        while len(received) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        statuses = [r["task_status"] for r in received]
        assert "succeed" in statuses and "code" not in received[-1]  # the task object, not wrapped
        assert all(r["task_id"] == task_id for r in received)
    finally:
        hook.shutdown()
