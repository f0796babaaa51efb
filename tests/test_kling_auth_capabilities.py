"""Tokens, credentials, the capability map and the create body: the local rules, before any request."""

from __future__ import annotations

import time

import jwt
import pytest

from kling_helpers import TEST_ACCESS_KEY, TEST_SECRET_KEY
from navtalk_desktop.core.errors import NavTalkError
from navtalk_desktop.core.kling.auth import Credentials, TokenProvider, make_jwt
from navtalk_desktop.core.kling.capabilities import MODELS, check_request, normalize_duration
from navtalk_desktop.core.kling.client import CreateTaskRequest, resolve_base_url
from navtalk_desktop.core.kling.errors import (KlingAccountError, KlingAuthError, KlingCapabilityError,
                                               KlingParameterError, KlingPolicyError, KlingRateLimitError,
                                               KlingServerError, MissingCredentialsError, error_for)
from navtalk_desktop.core.kling.prompts import DEFAULT_IDLE_PROMPT


def test_jwt_has_official_claims_and_backdated_nbf():
    now = 1_800_000_000
    token = make_jwt(TEST_ACCESS_KEY, TEST_SECRET_KEY, now=now)
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    claims = jwt.decode(token, TEST_SECRET_KEY.encode(), algorithms=["HS256"], options={"verify_exp": False,
                                                                                         "verify_nbf": False})
    assert claims["iss"] == TEST_ACCESS_KEY
    assert claims["exp"] == now + 1800
    assert claims["nbf"] < now - 5  # back-dated beyond the official 5 s for clock skew
    assert "iat" not in claims


def test_token_is_cached_and_refreshed_before_expiry():
    clock = [1_800_000_000.0]
    secret = "sk-5678-long-enough-for-hmac-sha256-keys"
    provider = TokenProvider(Credentials(access_key="ak-1234", secret_key=secret), clock=lambda: clock[0])
    first = provider.bearer()
    clock[0] += 60
    assert provider.bearer() == first  # cached
    clock[0] += 1800 - 60 - 30  # inside the refresh margin
    second = provider.bearer()
    assert second != first
    claims = jwt.decode(second, secret.encode(), algorithms=["HS256"],
                        options={"verify_exp": False, "verify_nbf": False})
    assert claims["exp"] > clock[0]
    provider.invalidate()
    clock[0] += 1
    assert provider.bearer() != second


def test_static_api_key_is_the_bearer_value():
    provider = TokenProvider(Credentials(api_key="  my-static-api-key  "))
    assert provider.bearer() == "my-static-api-key"


def test_credentials_never_show_secrets():
    creds = Credentials(access_key=TEST_ACCESS_KEY, secret_key=TEST_SECRET_KEY, source="env")
    provider = TokenProvider(creds)
    provider.bearer()
    for text in (repr(creds), str(creds), repr(provider), f"{creds}"):
        assert TEST_ACCESS_KEY not in text and TEST_SECRET_KEY not in text
        assert "access_key+secret_key" in text or "Credentials" in text
    with pytest.raises(MissingCredentialsError) as err:
        Credentials(access_key=TEST_ACCESS_KEY)
    assert TEST_ACCESS_KEY not in str(err.value)


def test_regions_and_custom_base_url():
    assert resolve_base_url() == "https://api-singapore.klingai.com"
    assert resolve_base_url("beijing") == "https://api-beijing.klingai.com"
    assert resolve_base_url(None, "http://127.0.0.1:9999/") == "http://127.0.0.1:9999"
    with pytest.raises(KlingParameterError, match="unknown region"):
        resolve_base_url("mars")
    with pytest.raises(KlingParameterError, match="https://"):
        resolve_base_url(None, "ftp://example")
    assert resolve_base_url(None, "https://kling.example.com/") == "https://kling.example.com"
    assert resolve_base_url(None, "http://localhost:8000") == "http://localhost:8000"
    for cleartext in ("http://api-singapore.klingai.com", "http://192.168.1.20:8000", "http://proxy.example"):
        with pytest.raises(KlingParameterError, match="plain http; use https://"):
            resolve_base_url(None, cleartext)  # the key/token would travel unencrypted


def test_capability_map_refuses_impossible_loop_modes():
    check_request("kling-v1", "std", "5", loop_tail=True)
    check_request("kling-v2-1", "pro", "10", loop_tail=True)
    check_request("kling-v3", "std", "3", loop_tail=True)
    with pytest.raises(KlingCapabilityError, match="does not support an end frame"):
        check_request("kling-v2-master", "pro", "5", loop_tail=True)
    with pytest.raises(KlingCapabilityError, match=r"kling-v1/std/10 s; supported: pro 5 s, std 5 s"):
        check_request("kling-v1", "std", "10", loop_tail=True)
    with pytest.raises(KlingCapabilityError, match="kling-v2-1/std/5"):
        check_request("kling-v2-1", "std", "5", loop_tail=True)
    with pytest.raises(KlingCapabilityError, match="cannot make a 7 s video"):
        check_request("kling-v2-1", "pro", "7", loop_tail=False)
    with pytest.raises(KlingCapabilityError, match="unknown Kling model"):
        check_request("kling-v9", "pro", "5", loop_tail=False)
    assert MODELS["kling-v1"].fps == 30 and MODELS["kling-v2-1"].fps == 24


def test_duration_is_a_whole_number_string():
    assert normalize_duration(5) == "5"
    assert normalize_duration("10") == "10"
    assert normalize_duration(5.0) == "5"
    for bad in ("5.5", "five", -1):
        with pytest.raises(KlingCapabilityError):
            normalize_duration(bad)


def _request(**kw) -> CreateTaskRequest:
    values = dict(image_base64="iVBORw0KGgo=", model="kling-v1", mode="std", duration="5",
                  prompt=DEFAULT_IDLE_PROMPT, external_task_id="ext-1")
    values.update(kw)
    return CreateTaskRequest(**values)


def test_create_body_fields_per_model():
    body = _request(cfg_scale=0.4, loop_tail=True).to_body()
    assert body["duration"] == "5" and isinstance(body["duration"], str)
    assert body["cfg_scale"] == 0.4
    assert body["image_tail"] == body["image"] == "iVBORw0KGgo="
    assert body["external_task_id"] == "ext-1"
    assert body["model_name"] == "kling-v1" and body["mode"] == "std"
    v2 = _request(model="kling-v2-1", mode="pro", cfg_scale=0.4).to_body()
    assert "cfg_scale" not in v2 and "image_tail" not in v2
    with pytest.raises(KlingParameterError, match="kling-v3 needs a prompt"):
        _request(model="kling-v3", mode="std", duration="3", prompt="  ").to_body()
    assert "prompt" not in _request(prompt="").to_body()  # other models take an empty prompt
    master = _request(model="kling-v2-master", mode="pro").to_body()
    assert "mode" not in master  # "kling-v2-master currently does not support mode parameter"
    assert _request(model="kling-v2-6", mode="pro", loop_tail=True).to_body()["sound"] == "off"


def test_create_body_rejects_bad_prompt_cfg_and_data_uri():
    with pytest.raises(KlingParameterError, match="2501 characters long; Kling accepts at most 2500"):
        _request(prompt="x" * 2501).to_body()
    with pytest.raises(KlingParameterError, match="negative prompt"):
        _request(negative_prompt="y" * 3000).to_body()
    with pytest.raises(KlingParameterError, match="between 0 and 1"):
        _request(cfg_scale=1.5).to_body()
    with pytest.raises(KlingParameterError, match="data:"):
        _request(image_base64="data:image/png;base64,iVBOR").to_body()


def test_default_prompt_describes_the_idle_loop():
    text = DEFAULT_IDLE_PROMPT.lower()
    for phrase in ("faces the camera", "blink", "one second", "static camera", "light", "last frame"):
        assert phrase in text
    assert len(DEFAULT_IDLE_PROMPT) <= 2500


@pytest.mark.parametrize("status,code,cls,retryable,refresh", [
    (401, 1000, KlingAuthError, False, True), (401, 1004, KlingAuthError, False, True),
    (429, 1102, KlingAccountError, False, False), (403, 1103, KlingAccountError, False, False),
    (400, 1201, KlingParameterError, False, False), (404, 1203, KlingParameterError, False, False),
    (400, 1301, KlingPolicyError, False, False), (429, 1304, KlingPolicyError, False, False),
    (429, 1302, KlingRateLimitError, True, False), (429, 1303, KlingRateLimitError, True, False),
    (500, 5000, KlingServerError, True, False), (504, 5002, KlingServerError, True, False),
    (502, None, KlingServerError, True, False), (429, 1999, KlingRateLimitError, True, False),
])
def test_every_documented_code_maps_to_a_typed_error(status, code, cls, retryable, refresh):
    err = error_for(status, code, "upstream says no", "req-1")
    assert type(err) is cls
    assert isinstance(err, NavTalkError)
    assert err.retryable is retryable and err.refresh_token is refresh
    assert "upstream says no" in str(err) and "req-1" in str(err)
    if code is not None:
        assert f"code {code}" in str(err)


def test_balance_errors_on_429_never_retry():
    err = error_for(429, 1102, "resource pack exhausted")
    assert not err.retryable
    assert "website credits" in str(err)


def test_jwt_time_guard():
    token = make_jwt("ak-x", "sk-y-long-enough-for-hmac-sha256-keys!!")
    claims = jwt.decode(token, b"sk-y-long-enough-for-hmac-sha256-keys!!", algorithms=["HS256"])
    assert claims["nbf"] <= time.time() <= claims["exp"]
