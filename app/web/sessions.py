"""The signed-cookie session of the web pages, not opened for the JSON API.

API clients authenticate with a bearer token on every request; opening (and verifying) a cookie
session for them would cost time on the API's hot path and could tie an API call to a browser's
sign-in. API requests get Flask's null session, which has nothing in it and refuses writes.
"""

from __future__ import annotations

from flask import Flask, Request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

SESSIONLESS_PREFIXES = ("/api/", "/healthz")


class PageSessionInterface(SecureCookieSessionInterface):
    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if request.path.startswith(SESSIONLESS_PREFIXES):
            return None  # Flask then uses make_null_session()
        return super().open_session(app, request)
