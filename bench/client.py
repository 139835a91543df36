"""Minimal HTTP clients on one persistent http.client connection (keep-alive): JSON for the API,
and a browser-like one (cookies, forms) for the server-rendered pages."""

from __future__ import annotations

import html
import http.client
import json
import re
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


class JsonClient:
    """One keep-alive connection; not thread-safe (use one client per thread)."""

    def __init__(self, host: str, port: int, token: str | None = None, timeout: float = 120.0) -> None:
        self.host = host
        self.port = port
        self.token = token
        self.timeout = timeout
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

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
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        """One request: status, response headers and body."""
        all_headers = self._headers()
        all_headers.update(headers or {})
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request(method, path, body=body, headers=all_headers)
                response = conn.getresponse()
                data = response.read()
                if response.will_close:
                    self.close()
                return response.status, response.msg, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection: reconnect once.
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

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
    ) -> tuple[int, http.client.HTTPMessage, str]:
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
