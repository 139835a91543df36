"""`python -m app <command>`: the same commands as `flask --app app <command>`."""

from flask.cli import FlaskGroup

from . import create_app

cli = FlaskGroup(create_app=lambda: create_app())

if __name__ == "__main__":
    cli()
