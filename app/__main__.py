"""`python -m app <command>`: the same commands as `flask --app app <command>`."""

import sys

import click
from flask.cli import FlaskGroup

from . import create_app
from .settings import SettingsError


def _create_app():
    try:
        return create_app()
    except SettingsError as exc:  # a setting to fix, not a program error: no traceback
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)


cli = FlaskGroup(create_app=_create_app)

if __name__ == "__main__":
    cli()
