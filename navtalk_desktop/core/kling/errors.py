"""Typed Kling errors, one per documented code family, each saying whether a retry can help.

The retry policy lives in the type (`retryable`, `refresh_token`) so the client, the job store and the
UI all make the same decision. Messages come from Kling's `message` field plus our own words; they never
contain a key or token.
"""

from __future__ import annotations

from ..errors import InputError, NavTalkError, Remedy


class KlingError(NavTalkError):
    """A failure talking to Kling (or the simulator)."""

    retryable = False
    refresh_token = False

    def __init__(self, message: str, *, code: int | None = None, http_status: int | None = None,
                 request_id: str | None = None) -> None:
        self.code = code
        self.http_status = http_status
        self.request_id = request_id
        detail = []
        if code is not None:
            detail.append(f"code {code}")
        if http_status is not None:
            detail.append(f"HTTP {http_status}")
        if request_id:
            detail.append(f"request {request_id}")
        super().__init__(f"{message} ({', '.join(detail)})" if detail else message)
        self.plain_message = message


class KlingAuthError(KlingError):
    """1000-1004: the token was refused. Regenerate it once; if it fails again, the keys are wrong."""

    refresh_token = True


class KlingAccountError(KlingError):
    """1100-1103: no balance, arrears, expired resource pack or no access. Retrying never helps."""


class KlingParameterError(KlingError):
    """1200-1203: the request itself is wrong."""


class KlingPolicyError(KlingError):
    """1300, 1301, 1304: platform/content/IP policy. Retrying the same request never helps."""


class KlingRateLimitError(KlingError):
    """1302/1303: too fast or too many parallel tasks. Retry with backoff."""

    retryable = True


class KlingServerError(KlingError):
    """5000-5002 and unknown 5xx: retry with backoff."""

    retryable = True


class KlingTransportError(KlingError):
    """No usable answer: connection refused/reset, timeout, malformed body. Retry with backoff."""

    retryable = True


class KlingUnreachableError(KlingTransportError):
    """The request never reached the server (no connection): `host` and the likely `cause` in words.

    Nothing was sent, so a create that ends this way cannot have made a paid task."""

    def __init__(self, message: str, *, host: str, cause: str) -> None:
        super().__init__(message)
        self.host = host
        self.cause = cause


class KlingTLSError(KlingUnreachableError):
    """The TLS handshake failed (a plain-HTTP server behind https://, or a certificate that does not verify).
    Retrying the same URL never helps."""

    retryable = False


class KlingTaskFailed(KlingError):
    """Kling accepted the task, then reported task_status "failed" (HTTP 200, code 0)."""


class KlingTaskLostError(KlingTaskFailed):
    """The server no longer knows the task (code 1203 / HTTP 404 when polling): it can never finish."""


class KlingTimeoutError(KlingError):
    """The task did not finish within our polling deadline. The job stays resumable."""


class KlingCapabilityError(KlingError):
    """The model/mode/duration/end-frame combination is not available; caught before any request."""


class KlingDownloadError(KlingError):
    """The result video could not be downloaded or failed verification."""

    retryable = True


class MissingCredentialsError(KlingError):
    """No Kling keys are configured."""


class ImagePreflightError(InputError):
    """The portrait breaks a Kling image rule; `fixable` says whether the app can convert it, `fix` what
    converting would do (the remedy each front end words: `--fix`, the studio's "Fix it for me")."""

    def __init__(self, message: str, *, fixable: bool = False, fix: str = "") -> None:
        super().__init__(message, remedy=Remedy.FIX_IMAGE if fixable else None, fix=fix)
        self.fixable = fixable


_BY_CODE: dict[int, type[KlingError]] = {}
for _codes, _cls in (
    (range(1000, 1005), KlingAuthError),
    (range(1100, 1104), KlingAccountError),
    (range(1200, 1204), KlingParameterError),
    ((1300, 1301, 1304), KlingPolicyError),
    ((1302, 1303), KlingRateLimitError),
    (range(5000, 5003), KlingServerError),
):
    for _code in _codes:
        _BY_CODE[_code] = _cls

_DEFINITIONS = {
    1000: "authentication failed", 1001: "authorization is empty", 1002: "authorization is invalid",
    1003: "authorization is not yet valid (check the computer's clock)",
    1004: "authorization has expired (check the computer's clock)",
    1100: "abnormal account status", 1101: "account in arrears",
    1102: "resource pack exhausted or expired (API credits are bought separately from website credits)",
    1103: "no access to this API or model",
    1200: "invalid request parameters", 1201: "invalid request parameters",
    1202: "the requested method is invalid", 1203: "the requested resource does not exist",
    1300: "platform policy triggered", 1301: "content security policy triggered",
    1302: "requests too fast (rate limit)", 1303: "too many parallel tasks for the resource pack",
    1304: "IP whitelist policy triggered",
    5000: "Kling server error", 5001: "Kling temporarily unavailable (maintenance)",
    5002: "Kling server timeout (backlog)",
}


def error_for(http_status: int, code: int | None, message: str | None,
              request_id: str | None = None) -> KlingError:
    """The typed error for an answer with a non-zero `code` or a non-2xx status."""
    cls = _BY_CODE.get(code) if code is not None else None
    if cls is None:
        if http_status >= 500:
            cls = KlingServerError
        elif http_status in (401,):
            cls = KlingAuthError
        elif http_status == 403:
            cls = KlingAccountError
        elif http_status == 429:
            cls = KlingRateLimitError  # unknown 429 code: backing off is the safe reading
        else:
            cls = KlingParameterError
    definition = _DEFINITIONS.get(code or -1, "Kling request failed")
    text = (message or "").strip()
    full = f"{definition}: {text}" if text and text.lower() != definition.lower() else definition
    return cls(full, code=code, http_status=http_status, request_id=request_id)


class KlingResultGoneError(KlingDownloadError):
    """The result URL answered 403/404/410: Kling deletes results after 30 days. Retrying never helps."""

    retryable = False
