"""A synchronous Kling image-to-video client: create, query, list and poll, with typed errors and backoff.

Sync httpx because the UI runs it in a QThreadPool worker and the CLI runs it directly. TLS verification
is httpx's default and is never turned off. The bearer token goes only to the API host; result videos are
downloaded by `download.py` with a separate, unauthenticated client.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import time
from typing import Callable
from urllib.parse import quote, urlparse

import httpx

from ... import __version__
from ..cancel import CancelToken
from .auth import Credentials, TokenProvider
from .errors import (KlingError, KlingParameterError, KlingRateLimitError, KlingServerError,
                     KlingTimeoutError, KlingTransportError, KlingUnreachableError, error_for)
from .reach import ReachPolicy, is_unsent, unreachable_error
from .task_types import (FINISHED, CreateTaskRequest, PollPolicy, RetryPolicy, TaskInfo,  # noqa: F401
                         sleep_or_cancel)

log = logging.getLogger(__name__)

REGIONS = {
    "global": "https://api-singapore.klingai.com",
    "singapore": "https://api-singapore.klingai.com",
    "legacy": "https://api.klingai.com",
    "beijing": "https://api-beijing.klingai.com",
    "cn": "https://api-beijing.klingai.com",  # the studio settings' name for mainland China
}
DEFAULT_REGION = "global"
TASK_PATH = "/v1/videos/image2video"
#: A host that accepts no connection within 5 s is reported (ReachPolicy retries it), not waited on.
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0, write=60.0)


def is_loopback_host(host: str) -> bool:
    """The one loopback predicate of the project: 127.0.0.0/8, ::1 and localhost (any case)."""
    host = (host or "").strip().strip("[]").lower().rstrip(".")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_base_url(region: str | None = None, base_url: str | None = None) -> str:
    """A custom base URL wins; otherwise the region's host (Singapore/global by default)."""
    if base_url:
        url = base_url.strip().rstrip("/")
        parsed = urlparse(url)
        if parsed.scheme not in ("https", "http") or not parsed.hostname:
            raise KlingParameterError(f"base URL must look like https://host (got {base_url!r})")
        if parsed.scheme == "http" and not is_loopback_host(parsed.hostname):
            # Plain HTTP would carry the key or token unencrypted: only a local simulator may use it.
            raise KlingParameterError(
                f"base URL {url!r} is plain http; use https:// (http:// is only for a local simulator "
                f"on 127.0.0.1)"
            )
        return url
    key = (region or DEFAULT_REGION).lower()
    if key not in REGIONS:
        raise KlingParameterError(f"unknown region {region!r}; choose one of: {', '.join(sorted(REGIONS))}")
    return REGIONS[key]


class KlingClient:
    def __init__(self, credentials: Credentials | TokenProvider, base_url: str | None = None, *,
                 region: str | None = None, timeout: httpx.Timeout = DEFAULT_TIMEOUT,
                 retry: RetryPolicy | None = None, transport: httpx.BaseTransport | None = None,
                 reach: ReachPolicy | None = None) -> None:
        self.tokens = credentials if isinstance(credentials, TokenProvider) else TokenProvider(credentials)
        self.base_url = resolve_base_url(region, base_url)
        self.retry = retry or RetryPolicy()
        self.reach = reach or ReachPolicy()
        self.timeout = timeout
        #: Called with a one-line notice before each backoff ("rate limited (code 1302), retrying in 4 s").
        self.on_notice: Callable[[str], None] | None = None
        self._deadline: float | None = None  # time.monotonic() by which the current phase must end
        self._http = httpx.Client(
            base_url=self.base_url, timeout=timeout, transport=transport, follow_redirects=False,
            headers={"User-Agent": f"navtalk-desktop/{__version__}", "Accept": "application/json"},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "KlingClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"KlingClient(base_url={self.base_url!r}, {self.tokens.credentials!r})"

    @contextlib.contextmanager
    def phase(self, seconds: float | None):
        """One overall deadline for every call and backoff inside the block (e.g. submitting the task)."""
        previous = self._deadline
        self._deadline = None if seconds is None else time.monotonic() + max(0.0, seconds)
        try:
            yield self
        finally:
            self._deadline = previous

    def _left(self) -> float | None:
        return None if self._deadline is None else self._deadline - time.monotonic()

    def _request_timeout(self) -> httpx.Timeout:
        """The client's timeouts, shortened so one request cannot outlive the phase deadline."""
        left = self._left()
        if left is None:
            return self.timeout
        cap = max(0.5, left)
        t = self.timeout
        return httpx.Timeout(connect=min(t.connect or cap, cap), read=min(t.read or cap, cap),
                             write=min(t.write or cap, cap), pool=min(t.pool or cap, cap))

    def _notify(self, text: str) -> None:
        log.info("%s", text)
        if self.on_notice is not None:
            self.on_notice(text)

    def _next_delay(self, err: KlingError, attempt: int) -> float | None:
        """Seconds to wait before trying again after `err` (attempt counts from 0), or None to give up:
        not retryable, out of attempts, or the wait would pass the phase deadline. Says why it waits."""
        if not err.retryable:
            return None
        if isinstance(err, KlingUnreachableError):
            if attempt + 1 >= self.reach.attempts:
                return None
            delay = self.reach.delay(attempt)
            text = f"cannot reach {err.host} (attempt {attempt + 1} of {self.reach.attempts}, next in {round(delay, 1):g} s)"
        else:
            if attempt + 1 >= self.retry.attempts:
                return None
            delay = self.retry.delay(attempt)
            if isinstance(err, KlingRateLimitError):
                text = f"rate limited (code {err.code or err.http_status}), retrying in {max(1, round(delay))} s"
            else:
                text = f"{err.plain_message}, retrying in {max(1, round(delay))} s"
        left = self._left()
        if left is not None and delay >= left:
            return None
        self._notify(text)
        return delay

    def _give_up(self, err: KlingError, attempts: int) -> KlingError:
        """The error to raise after the last attempt, saying how often the host was tried."""
        if isinstance(err, KlingUnreachableError) and attempts > 1:
            return type(err)(f"{err.plain_message} (tried {attempts} times)", host=err.host, cause=err.cause)
        return err

    # -- low level -------------------------------------------------------------------------------
    def _send_once(self, method: str, path: str, **kwargs) -> dict:
        headers = {"Authorization": f"Bearer {self.tokens.bearer()}"}
        timeout = self._request_timeout()
        try:
            resp = self._http.request(method, path, headers=headers, timeout=timeout, **kwargs)
        except httpx.HTTPError as exc:
            if is_unsent(exc):
                raise unreachable_error(exc, self.base_url, timeout.connect) from None
            raise self._transport_error(exc) from None
        return self._parse(resp)

    def _transport_error(self, exc: httpx.HTTPError) -> KlingTransportError:
        """A connection that opened, then failed: the request may have arrived."""
        if isinstance(exc, httpx.TimeoutException):
            return KlingTransportError(f"Kling did not answer in time ({type(exc).__name__})")
        return KlingTransportError(f"the connection to {self.base_url} failed ({type(exc).__name__})")

    def _parse(self, resp: httpx.Response) -> dict:
        try:
            body = resp.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            if resp.status_code >= 400:
                raise error_for(resp.status_code, None, resp.text[:200].strip() or resp.reason_phrase)
            raise KlingTransportError(f"Kling sent an unreadable answer (HTTP {resp.status_code})")
        code = body.get("code", 0)
        try:
            code = int(code) if code is not None else 0
        except (TypeError, ValueError):
            code = -1
        if resp.status_code < 300 and code == 0:
            return body
        raise error_for(resp.status_code, code if code != -1 else None, str(body.get("message") or ""),
                        body.get("request_id"))

    def _call(self, method: str, path: str, *, retry: bool = True, cancel: CancelToken | None = None,
              **kwargs) -> dict:
        """One API call: refresh the token once on 1000-1004, back off on retryable errors."""
        refreshed = False
        attempt = 0
        while True:
            if cancel is not None:
                cancel.raise_if_cancelled()
            try:
                return self._send_once(method, path, **kwargs)
            except KlingError as err:
                if err.refresh_token and not refreshed and not self.tokens.credentials.api_key:
                    refreshed = True
                    self.tokens.invalidate()
                    log.info("Kling refused the token (code %s); signing a fresh one", err.code)
                    continue
                delay = self._next_delay(err, attempt) if retry else None
                if delay is None:
                    raise self._give_up(err, attempt + 1) from None
                attempt += 1
                sleep_or_cancel(delay, cancel)

    # -- API -------------------------------------------------------------------------------------
    def create_task(self, request: CreateTaskRequest, *, cancel: CancelToken | None = None) -> TaskInfo:
        """Create a task without ever paying twice: after an ambiguous failure, look the task up by
        `external_task_id` before sending the create again."""
        body = request.to_body()
        ext = request.external_task_id
        ambiguous = False
        attempt = 0
        while True:
            if ambiguous and ext:
                found = self.find_by_external_id(ext, cancel=cancel)
                if found is not None:
                    log.info("create answer was lost, but the task exists: %s", found.task_id)
                    return found
            try:
                data = self._call("POST", TASK_PATH, json=body, retry=False, cancel=cancel)["data"]
                return TaskInfo.from_data(data)
            except (KlingServerError, KlingTransportError, KlingRateLimitError) as err:
                # A 429 means "not created", and so does a connection that never opened (nothing was
                # sent); 5xx or a connection dropped after sending may hide a created task.
                ambiguous = ambiguous or not isinstance(err, (KlingRateLimitError, KlingUnreachableError))
                delay = self._next_delay(err, attempt)
                if delay is None:
                    if ambiguous and ext and not isinstance(err, KlingUnreachableError):
                        found = self.find_by_external_id(ext, cancel=cancel)
                        if found is not None:
                            return found
                    raise self._give_up(err, attempt + 1) from None
                sleep_or_cancel(delay, cancel)
                attempt += 1
            except KlingParameterError as err:
                if ext and (ambiguous or "external_task_id" in err.plain_message.lower()):
                    found = self.find_by_external_id(ext, cancel=cancel)
                    if found is not None:
                        return found
                raise
            except KeyError:
                raise KlingTransportError("Kling answered the create request without data") from None

    def get_task(self, task_id: str, *, cancel: CancelToken | None = None) -> TaskInfo:
        body = self._call("GET", f"{TASK_PATH}/{quote(task_id, safe='')}", cancel=cancel)
        return TaskInfo.from_data(body.get("data") or {})

    def find_by_external_id(self, external_task_id: str, *, cancel: CancelToken | None = None) -> TaskInfo | None:
        """Path form (documented), then query form (used by clients), then a scan of the newest tasks."""
        def matches(info: TaskInfo) -> bool:
            return info.external_task_id == external_task_id

        try:
            body = self._call("GET", f"{TASK_PATH}/{quote(external_task_id, safe='')}", cancel=cancel)
            data = body.get("data")
            if isinstance(data, dict) and data.get("task_id"):
                info = TaskInfo.from_data(data)
                if info.external_task_id in (None, external_task_id):
                    return info
        except KlingUnreachableError:
            raise  # the other lookups would meet the same dead host
        except (KlingParameterError, KlingTransportError):
            pass
        try:
            body = self._call("GET", TASK_PATH, params={"external_task_id": external_task_id}, cancel=cancel)
            data = body.get("data")
            items = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
            for item in items:
                if isinstance(item, dict) and item.get("task_id"):
                    info = TaskInfo.from_data(item)
                    if matches(info):
                        return info
        except KlingUnreachableError:
            raise
        except (KlingParameterError, KlingTransportError):
            pass
        for page in (1, 2):
            try:
                tasks = self.list_tasks(page=page, page_size=100, cancel=cancel)
            except KlingUnreachableError:
                raise
            except (KlingParameterError, KlingTransportError):
                break
            for info in tasks:
                if matches(info):
                    return info
            if len(tasks) < 100:
                break
        return None

    def list_tasks(self, page: int = 1, page_size: int = 30, *,
                   cancel: CancelToken | None = None) -> list[TaskInfo]:
        body = self._call("GET", TASK_PATH, params={"pageNum": page, "pageSize": page_size}, cancel=cancel)
        data = body.get("data") or []
        return [TaskInfo.from_data(item) for item in data if isinstance(item, dict) and item.get("task_id")]

    def wait_for_task(self, task_id: str, *, poll: PollPolicy | None = None,
                      on_update: Callable[[TaskInfo, float], None] | None = None,
                      cancel: CancelToken | None = None, started_at: float | None = None) -> TaskInfo:
        """Poll until succeed/failed. `on_update(info, elapsed_seconds)` is called after every poll.

        A retryable failure (network down, 5xx) does not end the wait: the task is paid for and keeps
        running on Kling's side, so polling simply continues until the deadline."""
        poll = poll or PollPolicy()
        start = time.monotonic()
        offset = 0.0 if started_at is None else max(0.0, time.time() - started_at)
        interval = poll.initial
        while True:
            try:
                info = self.get_task(task_id, cancel=cancel)
            except KlingError as err:
                if not err.retryable or time.monotonic() - start > poll.timeout:
                    raise
                self._notify(f"checking task {task_id}: {err.plain_message}; asking again in "
                             f"{max(1, round(interval))} s")
                sleep_or_cancel(interval, cancel)
                interval = min(poll.max_interval, interval * poll.factor)
                continue
            elapsed = offset + time.monotonic() - start
            if on_update is not None:
                on_update(info, elapsed)
            if info.finished:
                return info
            if time.monotonic() - start > poll.timeout:
                raise KlingTimeoutError(
                    f"task {task_id} is still '{info.status}' after {int(time.monotonic() - start)} s; "
                    f"it stays in the job list and can be resumed later"
                )
            sleep_or_cancel(interval, cancel)
            interval = min(poll.max_interval, interval * poll.factor)
