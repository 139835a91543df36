"""Minimal HTTP clients on one persistent connection (keep-alive): JSON for the API, and a
browser-like one (cookies, forms) for the server-rendered pages.

HTTP/1.1 is spoken over a plain socket rather than through http.client, whose header parsing
(the email package) costs the load generator several times what the protocol needs: the
clients share the machine's CPUs with the server they measure."""

from __future__ import annotations

import html
import json
import re
import socket
import uuid
from collections.abc import Mapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode


class ApiError(RuntimeError):
    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        super().__init__(f"{method} {path} -> HTTP {status}: {body!r}"[:2000])
        self.status = status
        self.body = body


class ResponseHeaders:
    """A response's header fields, looked up by name in any case."""

    def __init__(self, fields: list[tuple[str, str]]) -> None:
        self._fields = fields

    def get(self, name: str, default: str | None = None) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self._fields if key.lower() == wanted), default)

    def get_all(self, name: str) -> list[str]:
        wanted = name.lower()
        return [value for key, value in self._fields if key.lower() == wanted]


class ServerClosed(ConnectionError):
    """The server closed the connection before it answered (an idle keep-alive one)."""


class JsonClient:
    """One keep-alive connection; not thread-safe (use one client per thread)."""

    def __init__(self, host: str, port: int, token: str | None = None, timeout: float = 120.0) -> None:
        self.host = host
        self.port = port
        self.token = token
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._buffer = b""

    def _socket(self) -> socket.socket:
        if self._sock is None:
            self._sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
            self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._buffer = b""
        return self._sock

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> JsonClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def exchange(
        self, method: str, path: str, body: bytes | None = None, headers: Mapping[str, str] | None = None
    ) -> tuple[int, ResponseHeaders, bytes]:
        """One request: status, response headers and body."""
        fields = {"Host": f"{self.host}:{self.port}", **self._headers(), **(headers or {})}
        if body is not None or method in ("POST", "PUT", "PATCH"):
            fields["Content-Length"] = str(len(body or b""))
        head = "".join(f"{name}: {value}\r\n" for name, value in fields.items())
        request = f"{method} {path} HTTP/1.1\r\n{head}\r\n".encode("latin-1") + (body or b"")
        for attempt in (1, 2):
            sock = self._socket()
            try:
                sock.sendall(request)
                status, response_headers, data = self._read_response(method)
            except (ServerClosed, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection: reconnect once.
                self.close()
                if attempt == 2:
                    raise
                continue
            if (response_headers.get("Connection") or "").lower() == "close":
                self.close()
            return status, response_headers, data
        raise AssertionError("unreachable")

    def _receive(self) -> bytes:
        assert self._sock is not None
        chunk = self._sock.recv(262144)
        if not chunk:
            raise ServerClosed("the server closed the connection")
        return chunk

    def _read_response(self, method: str) -> tuple[int, ResponseHeaders, bytes]:
        while (end := self._buffer.find(b"\r\n\r\n")) < 0:
            self._buffer += self._receive()
        lines = self._buffer[:end].decode("latin-1").split("\r\n")
        self._buffer = self._buffer[end + 4 :]
        status = int(lines[0].split(" ", 2)[1])
        fields = [
            (key.strip(), value.strip()) for key, _, value in (line.partition(":") for line in lines[1:])
        ]
        headers = ResponseHeaders(fields)
        if method == "HEAD" or status in (204, 304):
            return status, headers, b""
        if (headers.get("Transfer-Encoding") or "").lower() == "chunked":
            return status, headers, self._read_chunked()
        length = headers.get("Content-Length")
        if length is None:  # the body runs to the end of the connection
            data = self._buffer
            try:
                while True:
                    data += self._receive()
            except ServerClosed:
                pass
            self._buffer = b""
            self.close()
            return status, headers, data
        return status, headers, self._take(int(length))

    def _take(self, count: int) -> bytes:
        while len(self._buffer) < count:
            self._buffer += self._receive()
        data, self._buffer = self._buffer[:count], self._buffer[count:]
        return data

    def _read_chunked(self) -> bytes:
        parts = []
        while True:
            while (end := self._buffer.find(b"\r\n")) < 0:
                self._buffer += self._receive()
            size = int(self._buffer[:end].split(b";")[0], 16)
            self._buffer = self._buffer[end + 2 :]
            if size == 0:
                while (end := self._buffer.find(b"\r\n")) != 0:  # trailer fields, then a blank line
                    if end < 0:
                        self._buffer += self._receive()
                    else:
                        self._buffer = self._buffer[end + 2 :]
                self._buffer = self._buffer[2:]
                return b"".join(parts)
            parts.append(self._take(size))
            self._take(2)

    def raw(
        self, method: str, path: str, body: bytes | None = None, headers: Mapping[str, str] | None = None
    ) -> tuple[int, bytes]:
        status, _, data = self.exchange(method, path, body, headers)
        return status, data

    def request(
        self, method: str, path: str, payload: Any = None, *, expect: tuple[int, ...] = (200, 201)
    ) -> Any:
        body = None
        headers = {}
        if payload is not None:
            body = json.dumps(payload).encode()
            headers["Content-Type"] = "application/json"
        status, data = self.raw(method, path, body, headers)
        try:
            decoded: Any = json.loads(data) if data else None
        except ValueError:
            decoded = data[:500].decode(errors="replace")
        if status not in expect:
            raise ApiError(method, path, status, decoded)
        return decoded

    def get(self, path: str, **kw: Any) -> Any:
        return self.request("GET", path, **kw)

    def post(self, path: str, payload: Any = None, **kw: Any) -> Any:
        return self.request("POST", path, {} if payload is None else payload, **kw)

    def post_files(
        self, path: str, field: str, files: Mapping[str, bytes], form: Mapping[str, str] | None = None
    ) -> Any:
        """POST multipart/form-data with several files in one field."""
        boundary = f"bench-{uuid.uuid4().hex}"
        parts: list[bytes] = []
        for name, value in (form or {}).items():
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
            )
        for filename, content in files.items():
            parts.append(
                (
                    f"--{boundary}\r\n"
                    f'Content-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
                    "Content-Type: application/octet-stream\r\n\r\n"
                ).encode()
                + content
                + b"\r\n"
            )
        parts.append(f"--{boundary}--\r\n".encode())
        status, data = self.raw(
            "POST", path, b"".join(parts), {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        )
        decoded = json.loads(data) if data else None
        if status not in (200, 201):
            raise ApiError("POST", path, status, decoded)
        return decoded

    def sign_in(self, username: str, password: str) -> str:
        saved, self.token = self.token, None
        try:
            body = self.post(
                "/api/v1/auth/token", {"username": username, "password": password}, expect=(200,)
            )
        finally:
            self.token = saved
        self.token = body["token"]
        return self.token


CSRF_FIELD = re.compile(r'<input type="hidden" name="csrf_token" value="([^"]+)"')


class WebClient(JsonClient):
    """Like a browser on the server-rendered pages: keeps the cookies the server sets (the signed
    session), sends forms, does not follow redirects. One keep-alive connection; not thread-safe."""

    def __init__(self, host: str, port: int, timeout: float = 120.0) -> None:
        super().__init__(host, port, None, timeout)
        self.cookies: dict[str, str] = {}

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "text/html,application/xhtml+xml"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return headers

    def page(
        self, method: str, path: str, form: Mapping[str, str] | None = None
    ) -> tuple[int, ResponseHeaders, str]:
        """A page request (a form POST when `form` is given); the cookies of the answer are kept."""
        body, headers = None, {}
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        status, message, data = self.exchange(method, path, body, headers)
        for header in message.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0" or morsel.value == "":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return status, message, data.decode(errors="replace")

    def sign_in_web(self, username: str, password: str, path: str = "/login") -> str:
        """The web sign-in: GET the form, read its CSRF token, POST the credentials with it; returns
        where the server redirects to. Raises unless the server answers the POST with a redirect."""
        status, _, text = self.page("GET", path)
        if status != 200:
            raise ApiError("GET", path, status, text[:500])
        found = CSRF_FIELD.search(text)
        if not found:
            raise RuntimeError(f"GET {path}: no csrf_token field in the sign-in form")
        form = {"csrf_token": html.unescape(found.group(1)), "next": "", "username": username}
        status, message, text = self.page("POST", path, {**form, "password": password})
        if status not in (302, 303):
            raise ApiError("POST", path, status, text[:500])
        return message.get("Location", "")
