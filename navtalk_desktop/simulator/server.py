"""The simulator's HTTP server: Kling's routes, envelope, error codes and fault injection, on loopback."""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from ..core import strict_json
from .auth import check_authorization
from .config import SimulatorConfig
from .tasks import TaskRegistry
from .validation import Rejected, validate_create

log = logging.getLogger(__name__)

TASK_PATH = "/v1/videos/image2video"
_SERVER_ERRORS = ((500, 5000, "Server internal error"), (503, 5001, "Server temporarily unavailable"),
                  (504, 5002, "Server internal timeout"))
_RANGE = re.compile(r"bytes=(\d+)-(\d*)$")


@dataclass
class DownloadRecord:
    video_id: str
    range_start: int | None
    status: int
    bytes_sent: int = 0


@dataclass
class ServerStats:
    create_requests: int = 0
    #: every parsed create body, images shortened to their first 16 characters (for tests and debugging)
    create_bodies: list[dict] = field(default_factory=list)
    #: Kling codes of every error answer sent (auth, validation, injected faults)
    error_codes: list[int] = field(default_factory=list)
    api_requests: int = 0
    downloads: list[DownloadRecord] = field(default_factory=list)
    bytes_served: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class SimulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, config: SimulatorConfig) -> None:
        super().__init__(address, SimulatorRequestHandler)
        self.config = config
        self.stats = ServerStats()
        host, port = self.server_address[:2]
        self.base_url = f"http://{host}:{port}"
        self.registry = TaskRegistry(config, self.base_url)
        self._error_turn = 0

    def next_server_error(self) -> tuple[int, int, str]:
        self._error_turn += 1
        return _SERVER_ERRORS[(self._error_turn - 1) % len(_SERVER_ERRORS)]


class SimulatorRequestHandler(BaseHTTPRequestHandler):
    server: SimulatorHTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "KlingSimulator/1"

    def log_message(self, fmt: str, *args) -> None:  # route to logging, never stderr
        log.debug("%s %s", self.address_string(), fmt % args)

    # -- helpers ---------------------------------------------------------------------------------------
    def _json(self, status: int, payload: dict) -> None:
        body = strict_json.dumps(payload, indent=None).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _ok(self, data) -> None:
        self._json(200, {"code": 0, "message": "SUCCEED", "request_id": str(uuid.uuid4()), "data": data})

    def _error(self, status: int, code: int, message: str) -> None:
        with self.server.stats.lock:
            self.server.stats.error_codes.append(code)
        self._json(status, {"code": code, "message": message, "request_id": str(uuid.uuid4())})

    def _drop(self) -> None:
        """Close the connection abruptly, mid-answer or with no answer at all."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _api_preamble(self) -> bool:
        """Faults and auth shared by every API route; False if an answer was already sent."""
        faults = self.server.config.faults
        with self.server.stats.lock:
            self.server.stats.api_requests += 1
        if faults.take("slow_answers"):
            time.sleep(faults.slow_seconds)
        problem = check_authorization(self.headers.get("Authorization"), self.server.config.keypairs,
                                      self.server.config.api_keys)
        if problem is not None:
            self._error(401, *problem)
            return False
        if faults.take("server_errors"):
            self._error(*self.server.next_server_error())
            return False
        return True

    # -- routes ------------------------------------------------------------------------------------------
    def do_POST(self) -> None:
        url = urlparse(self.path)
        body = self._read_body()
        if url.path.rstrip("/") != TASK_PATH:
            self._error(404, 1202, "The requested method is invalid")
            return
        if not self._api_preamble():
            return
        self._create(body)

    def do_GET(self) -> None:
        url = urlparse(self.path)
        path = url.path.rstrip("/")
        if path.startswith("/videos/"):
            self._video(path[len("/videos/"):].removesuffix(".mp4"))
            return
        if path == TASK_PATH:
            if self._api_preamble():
                self._list(parse_qs(url.query))
            return
        if path.startswith(TASK_PATH + "/") and path.count("/") == 4:
            if self._api_preamble():
                self._query(unquote(path.rsplit("/", 1)[1]))
            return
        self._error(404, 1202, "The requested method is invalid")

    def _create(self, raw: bytes) -> None:
        faults = self.server.config.faults
        with self.server.stats.lock:
            self.server.stats.create_requests += 1
        if faults.take("rate_limits"):
            self._error(429, 1302, "API request too fast, please slow down")
            return
        try:
            body = json.loads(raw.decode("utf-8")) if raw else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            self._error(400, 1200, "Invalid request parameters: body is not JSON")
            return
        if isinstance(body, dict):
            short = {k: (v[:16] + "…" if k in ("image", "image_tail") and isinstance(v, str) else v)
                     for k, v in body.items()}
            with self.server.stats.lock:
                self.server.stats.create_bodies.append(short)
        try:
            task = self.server.registry.create(validate_create(body))
        except Rejected as rej:
            self._error(rej.http_status, rej.code, rej.message)
            return
        if faults.create_answer_delay > 0:
            time.sleep(faults.create_answer_delay)
        if faults.take("lost_create_answers"):
            self._drop()
            return
        data = task.to_data(self.server.base_url)
        self._ok({k: data[k] for k in ("task_id", "task_status", "task_info", "created_at", "updated_at")})

    def _query(self, any_id: str) -> None:
        task = self.server.registry.get(any_id)
        if task is not None and task.task_id != any_id and not self.server.config.external_id_in_path:
            task = None
        if self.server.config.faults.forget_tasks:
            task = None
        if task is None:
            self._error(404, 1203, f"task not found: {any_id}")
            return
        self._ok(task.to_data(self.server.base_url))

    def _list(self, query: dict) -> None:
        base = self.server.base_url
        if "external_task_id" in query:
            task = self.server.registry.get(query["external_task_id"][0])
            matches = [task] if task is not None and task.external_task_id == query["external_task_id"][0] else []
            self._ok([t.to_data(base) for t in matches])
            return
        try:
            page = int(query.get("pageNum", ["1"])[0])
            size = int(query.get("pageSize", ["30"])[0])
        except ValueError:
            self._error(400, 1201, "pageNum and pageSize must be integers")
            return
        if not 1 <= page <= 1000 or not 1 <= size <= 500:
            self._error(400, 1201, "pageNum must be in [1,1000] and pageSize in [1,500]")
            return
        self._ok([t.to_data(base) for t in self.server.registry.page(page, size)])

    def _video(self, video_id: str) -> None:
        """Result files need no Authorization, like Kling's CDN; Range is honoured for resumes."""
        path: Path | None = self.server.registry.video(video_id)
        stats = self.server.stats
        if path is None or not path.is_file():
            with stats.lock:
                stats.downloads.append(DownloadRecord(video_id, None, 404))
            self._error(404, 1203, "video not found")
            return
        data = path.read_bytes()
        faults = self.server.config.faults
        start, end, status = 0, len(data) - 1, 200
        header = self.headers.get("Range")
        if header:
            match = _RANGE.match(header.strip())
            if not match or int(match.group(1)) >= len(data):
                with stats.lock:
                    stats.downloads.append(DownloadRecord(video_id, None, 416))
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            start = int(match.group(1))
            end = min(len(data) - 1, int(match.group(2))) if match.group(2) else len(data) - 1
            status = 206
        elif faults.take("truncated_downloads"):
            data = data[: int(len(data) * faults.truncate_fraction)]
            end = len(data) - 1
        payload = data[start : end + 1]
        drop_at = int(len(payload) * faults.drop_fraction) if faults.take("dropped_downloads") else None
        record = DownloadRecord(video_id, start if header else None, status)
        with stats.lock:
            stats.downloads.append(record)
        self.send_response(status)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(len(payload)))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        self.end_headers()
        chunk = 16 * 1024
        rate = faults.download_bytes_per_second
        sent = 0
        try:
            while sent < len(payload):
                if drop_at is not None and sent >= drop_at:
                    self._drop()
                    return
                limit = len(payload) if drop_at is None else drop_at
                piece = payload[sent : min(sent + chunk, limit)]
                self.wfile.write(piece)
                sent += len(piece)
                with stats.lock:
                    record.bytes_sent = sent
                    stats.bytes_served += len(piece)
                rate = faults.download_bytes_per_second
                if rate:
                    time.sleep(len(piece) / rate)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
