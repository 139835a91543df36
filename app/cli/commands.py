"""Command line: `flask --app app <command>` or `python -m app <command>`."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app

from ..db.migrate import upgrade
from ..errors import AppError
from ..services.modelling import deployments
from ..services.people import users
from ..services.people.users import SYSTEM
from ..services.running import instance_search
from .common import fail, services
from .server import register_server_commands


def register_commands(app: Flask) -> None:
    @app.cli.group("db")
    def db() -> None:
        """Database schema."""

    @db.command("upgrade")
    def db_upgrade() -> None:
        """Apply all migrations."""
        upgrade(current_app.extensions["db_engine"])
        click.echo("database is up to date")

    @app.cli.command("deploy")
    @click.argument("bpmn_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), required=False)
    @click.option("--forms", "forms_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
    def deploy(bpmn_dir: Path | None, forms_dir: Path | None) -> None:
        """Deploy every process in a folder of BPMN files (default: bpmn/ and forms/)."""
        ctx = services()
        try:
            results = deployments.deploy_folders(
                ctx, SYSTEM, bpmn_dir or ctx.settings.bpmn_dir, forms_dir or ctx.settings.forms_dir
            )
        except AppError as exc:
            fail(exc)
        for result in results:
            state = "new version" if result.created else "unchanged"
            click.echo(f"{result.model_id}: version {result.version} ({state})")

    @app.cli.command("translations")
    @click.argument("bpmn_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), required=False)
    def translations_check(bpmn_dir: Path | None) -> None:
        """List the texts of each diagram that its catalogue lacks in Kazakh or Russian (exit 1 if any)."""
        gaps = deployments.missing_translations(bpmn_dir or services().settings.bpmn_dir)
        for gap in gaps:
            click.echo(gap)
        click.echo(f"{len(gaps)} missing translation(s)")
        if gaps:
            raise SystemExit(1)

    @app.cli.group("users")
    def users_group() -> None:
        """Users and groups."""

    @users_group.command("create")
    @click.argument("username")
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
    @click.option("--name", "display_name", default="")
    @click.option("--group", "groups", multiple=True)
    @click.option("--lead", "leads", multiple=True, help="groups the user leads")
    @click.option("--language", default="kk", type=click.Choice(users.LANGUAGES))
    def users_create(
        username: str,
        password: str,
        display_name: str,
        groups: tuple[str, ...],
        leads: tuple[str, ...],
        language: str,
    ) -> None:
        try:
            users.create_user(
                services(),
                SYSTEM,
                username=username,
                password=password,
                display_name=display_name,
                groups=groups,
                leads=leads,
                language=language,
            )
        except AppError as exc:
            fail(exc)
        click.echo(f"user {username} created")

    @users_group.command("list")
    def users_list() -> None:
        for user in users.list_users(services(), SYSTEM):
            click.echo(f"{user['username']}\t{user['display_name']}\t{','.join(user['groups'])}")  # type: ignore[arg-type]

    @users_group.command("set-group")
    @click.argument("group")
    @click.argument("members", nargs=-1)
    def users_set_group(group: str, members: tuple[str, ...]) -> None:
        """Replace the members of GROUP (created if missing)."""
        try:
            users.set_group_members(services(), SYSTEM, group, members)
        except AppError as exc:
            fail(exc)
        click.echo(f"{group}: {' '.join(members)}")

    @users_group.command("token")
    @click.argument("username")
    def users_token(username: str) -> None:
        """Print a bearer token for USERNAME."""
        try:
            click.echo(users.issue_token(services(), users.actor_for(services(), username)))
        except AppError as exc:
            fail(exc)

    @app.cli.command("instances")
    @click.option("--status", default=None)
    @click.option("--model", "model_id", default=None)
    def instances_list(status: str | None, model_id: str | None) -> None:
        """List process instances."""
        try:
            rows = instance_search.list_instances(services(), SYSTEM, status=status, model_id=model_id)
        except AppError as exc:
            fail(exc)
        for row in rows:
            click.echo(
                f"{row['id']}\t{row['process_model']} v{row['version']}\t{row['status']}\t{row['updated_at']}"
            )

    register_server_commands(app)
