"""Threaded HTTP/1.1 server: the API gateway on every path except `/_emulator/...` (the control plane)."""
import json
import socket
import struct
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote

import yaml

from .accounts import WorldError
from .app import log_exception
from .gateway import Gateway, IncomingRequest
from .products.sts import credentials_body

CONTROL_PREFIX = "/_emulator/"
MAX_BODY_BYTES = 16 * 1024 * 1024


class ControlError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def _json_body(raw, content_type):
    if not raw:
        return {}
    try:
        if "yaml" in (content_type or ""):
            return yaml.safe_load(raw.decode("utf-8")) or {}
        return json.loads(raw.decode("utf-8"))
    except ValueError as error:
        raise ControlError(400, "the body is not valid JSON/YAML: %s" % error)
    except yaml.YAMLError as error:
        raise ControlError(400, "the body is not valid YAML: %s" % error)


class ControlPlane:
    """JSON endpoints for tests, the demo and the benchmark. No signature; never subject to faults."""

    def __init__(self, emulator):
        self.emulator = emulator

    def handle(self, method, path, query, body, content_type):
        parts = [p for p in path[len(CONTROL_PREFIX):].split("/") if p]
        route = "/".join(parts)
        if route == "health" and method == "GET":
            return 200, self.emulator.health()
        if route == "state" and method == "GET":
            with self.emulator.lock:
                return 200, self.emulator.world.snapshot()
        if route == "calls" and method == "GET":
            filters = dict(query)
            since = filters.pop("since", 0)
            try:
                since = int(since)
            except ValueError:
                raise ControlError(400, "since must be an integer")
            calls, next_index = self.emulator.calls.list(since, **filters)
            return 200, {"calls": calls, "next": next_index}
        if route == "calls" and method == "DELETE":
            self.emulator.calls.clear()
            return 200, {"ok": True}
        if route == "world" and method == "POST":
            doc = _json_body(body, content_type)
            speed = query.get("speed")
            try:
                self.emulator.load_world(doc, speed=float(speed) if speed else None)
            except (WorldError, ValueError) as error:
                raise ControlError(400, str(error))
            return 200, {"ok": True, "speed": self.emulator.speed}
        if route == "faults" and method == "GET":
            return 200, self.emulator.faults
        if route == "faults" and method in ("POST", "PUT"):
            changes = _json_body(body, content_type)
            replace = method == "PUT" or query.get("mode") == "replace"
            try:
                return 200, self.emulator.set_faults(changes, replace=replace)
            except WorldError as error:
                raise ControlError(400, str(error))
        if len(parts) == 3 and parts[0] == "instances" and parts[2] == "health" and method == "GET":
            with self.emulator.lock:
                status, doc = self.emulator.world.instance_health(unquote(parts[1]))
            return status, doc
        if route == "sts-token" and method == "POST":
            return 200, self._mint(_json_body(body, content_type))
        raise ControlError(404, "no control-plane endpoint %s %s" % (method, path))

    def _mint(self, doc):
        """Mint STS credentials directly (e.g. already expired ones for tests)."""
        role = self.emulator.accounts.roles.get(doc.get("role_arn"))
        if role is None:
            raise ControlError(400, "unknown role_arn %r" % doc.get("role_arn"))
        try:
            duration = int(doc.get("duration_seconds", 3600))
        except (TypeError, ValueError):
            raise ControlError(400, "duration_seconds must be an integer")
        expires_at = time.time() - 1 if doc.get("expired") else None
        principal = self.emulator.accounts.mint(role, doc.get("session_name", "emulator-session"), duration,
                                                expires_at=expires_at)
        return credentials_body(principal)


class RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AliyunEmulator/0.1"
    sys_version = ""
    # Idle keep-alive connections are closed after this many seconds so their threads do not pile up.
    timeout = 600

    def setup(self):
        super().setup()
        # One write per response plus no Nagle delay keeps small keep-alive calls fast.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format, *args):  # noqa: A002 - signature fixed by the base class
        pass

    def do_GET(self):
        self._dispatch()

    def do_POST(self):
        self._dispatch()

    def do_PUT(self):
        self._dispatch()

    def do_DELETE(self):
        self._dispatch()

    def _read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            raise ValueError("request body too large")
        return self.rfile.read(length) if length else b""

    def _dispatch(self):
        emulator = self.server.emulator
        try:
            body = self._read_body()
        except ValueError:
            self._send(413, {"Content-Type": "text/plain"}, b"request body too large")
            self.close_connection = True
            return
        path, _, query_string = self.path.partition("?")
        if path.startswith(CONTROL_PREFIX):
            self._control(emulator, path, query_string, body)
            return
        headers = {}
        for name, value in self.headers.items():
            headers.setdefault(name.lower(), []).append(value)
        response = self.server.gateway.handle(IncomingRequest(self.command, path, query_string, headers, body))
        if response.drop:
            self._drop()
            return
        self._send(response.status, response.headers, response.body)

    def _control(self, emulator, path, query_string, body):
        query = dict(parse_qsl(query_string, keep_blank_values=True))
        try:
            status, doc = self.server.control.handle(self.command, path, query, body,
                                                     self.headers.get("Content-Type"))
        except ControlError as error:
            status, doc = error.status, {"error": error.message}
        except Exception as error:
            log_exception("control plane %s %s" % (self.command, path))
            status, doc = 500, {"error": repr(error)}
        payload = json.dumps(doc, default=str).encode("utf-8")
        self._send(status, {"Content-Type": "application/json;charset=utf-8"}, payload)

    def _send(self, status, headers, body):
        lines = ["HTTP/1.1 %d %s" % (status, self.responses.get(status, ("",))[0])]
        for name, value in headers.items():
            lines.append("%s: %s" % (name, value))
        lines.append("Content-Length: %d" % len(body))
        lines.append("Date: %s" % self.date_time_string())
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head + body)

    def _drop(self):
        """Reset the connection without answering (SO_LINGER 0 makes close() send RST)."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.server.dropped.add(id(self.connection))


class EmulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address, emulator):
        self.emulator = emulator
        self.gateway = Gateway(emulator)
        self.control = ControlPlane(emulator)
        self.dropped = set()
        super().__init__(address, RequestHandler)

    def shutdown_request(self, request):
        if id(request) in self.dropped:
            self.dropped.discard(id(request))
            # No graceful FIN first: close straight away so the peer sees a reset.
            self.close_request(request)
            return
        super().shutdown_request(request)

    @property
    def url(self):
        host, port = self.server_address[:2]
        return "http://%s:%d" % (host, port)


def make_server(emulator, host="127.0.0.1", port=0):
    return EmulatorServer((host, port), emulator)
