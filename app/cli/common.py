"""What every command uses: the application's services, and failing with a service's error."""

from __future__ import annotations

import json

import click
from flask import current_app

from ..errors import AppError
from ..services.context import ServiceContext


def services() -> ServiceContext:
    return current_app.extensions["services"]


def fail(exc: AppError) -> None:
    detail = "".join(f"\n  - {json.dumps(d, ensure_ascii=False)}" for d in exc.details)
    raise click.ClickException(f"{exc.message}{detail}")
