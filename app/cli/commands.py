"""Command line: `flask --app app <command>` or `python -m app <command>`."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import Flask, current_app

from ..db.migrate import upgrade
from ..errors import AppError
from ..services.context import ServiceContext
from ..services.modelling import deployments
from ..services.people import users
from ..services.people.users import SYSTEM
from ..services.running import instance_search


def _services() -> ServiceContext:
    return current_app.extensions["services"]


def _fail(exc: AppError) -> None:
    detail = "".join(f"\n  - {json.dumps(d, ensure_ascii=False)}" for d in exc.details)
    raise click.ClickException(f"{exc.message}{detail}")


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
        ctx = _services()
        try:
            results = deployments.deploy_folders(
                ctx, SYSTEM, bpmn_dir or ctx.settings.bpmn_dir, forms_dir or ctx.settings.forms_dir
            )
        except AppError as exc:
            _fail(exc)
        for result in results:
            state = "new version" if result.created else "unchanged"
            click.echo(f"{result.model_id}: version {result.version} ({state})")

    @app.cli.command("translations")
    @click.argument("bpmn_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), required=False)
    def translations_check(bpmn_dir: Path | None) -> None:
        """List the texts of each diagram that its catalogue lacks in Kazakh or Russian (exit 1 if any)."""
        gaps = deployments.missing_translations(bpmn_dir or _services().settings.bpmn_dir)
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
                _services(),
                SYSTEM,
                username=username,
                password=password,
                display_name=display_name,
                groups=groups,
                leads=leads,
                language=language,
            )
        except AppError as exc:
            _fail(exc)
        click.echo(f"user {username} created")

    @users_group.command("list")
    def users_list() -> None:
        for user in users.list_users(_services(), SYSTEM):
            click.echo(f"{user['username']}\t{user['display_name']}\t{','.join(user['groups'])}")  # type: ignore[arg-type]

    @users_group.command("set-group")
    @click.argument("group")
    @click.argument("members", nargs=-1)
    def users_set_group(group: str, members: tuple[str, ...]) -> None:
        """Replace the members of GROUP (created if missing)."""
        try:
            users.set_group_members(_services(), SYSTEM, group, members)
        except AppError as exc:
            _fail(exc)
        click.echo(f"{group}: {' '.join(members)}")

    @users_group.command("token")
    @click.argument("username")
    def users_token(username: str) -> None:
        """Print a bearer token for USERNAME."""
        try:
            click.echo(users.issue_token(_services(), users.actor_for(_services(), username)))
        except AppError as exc:
            _fail(exc)

    @app.cli.command("instances")
    @click.option("--status", default=None)
    @click.option("--model", "model_id", default=None)
    def instances_list(status: str | None, model_id: str | None) -> None:
        """List process instances."""
        try:
            rows = instance_search.list_instances(_services(), SYSTEM, status=status, model_id=model_id)
        except AppError as exc:
            _fail(exc)
        for row in rows:
            click.echo(
                f"{row['id']}\t{row['process_model']} v{row['version']}\t{row['status']}\t{row['updated_at']}"
            )

    @app.cli.command("serve")
    @click.option("--host", default="127.0.0.1")
    @click.option("--port", default=5000, type=int)
    @click.option("--threads", default=4, type=click.IntRange(min=1), help="request threads per process")
    @click.option(
        "--workers",
        default=1,
        envvar="WEB_WORKERS",
        show_envvar=True,
        type=click.IntRange(min=1),
        help="worker processes, each with its own application configured from the environment",
    )
    @click.option("--scheduler/--no-scheduler", default=True, help="fire timers in each serving process")
    def serve(host: str, port: int, threads: int, workers: int, scheduler: bool) -> None:
        """Serve the application with granian worker processes (see app/serving.py)."""
        from ..serving import serve as serve_app

        click.echo(f"serving on http://{host}:{port} ({workers} process(es) of {threads} threads)")
        serve_app(host, port, workers, threads, scheduler)

    @app.cli.group("scheduler")
    def scheduler_group() -> None:
        """The timer scheduler (several may run against one PostgreSQL database)."""

    @scheduler_group.command("run")
    @click.option("--once", is_flag=True, help="fire what is due now, then exit")
    @click.option(
        "--poll",
        "poll_seconds",
        default=0.5,
        type=float,
        help="seconds between polls for timers stored by other processes",
    )
    @click.option("--lease", "lease_seconds", default=60.0, type=float, help="seconds a claim is held")
    @click.option("--batch", "batch_size", default=100, type=int, help="timers claimed at a time")
    @click.option(
        "--fire-threads",
        type=click.IntRange(min=1),
        default=None,
        help="threads firing claimed timers (default SCHEDULER_FIRE_THREADS, else 4; 1 on SQLite)",
    )
    def scheduler_run(
        once: bool, poll_seconds: float, lease_seconds: float, batch_size: int, fire_threads: int | None
    ) -> None:
        """Fire timers as they come due, until stopped (SIGINT or SIGTERM)."""
        import dataclasses
        import signal
        from datetime import timedelta

        from ..scheduler import TimerScheduler, scheduler_name
        from ..services.time import calendar_transfers, rotation, timer_starts, timers

        ctx = _services()
        if fire_threads is not None:
            # Through the settings, so that SQLite still gets its single thread.
            ctx = dataclasses.replace(
                ctx, settings=dataclasses.replace(ctx.settings, scheduler_fire_threads=fire_threads)
            )
        threads = timers.fire_threads(ctx)
        lease = timedelta(seconds=lease_seconds)
        if once:
            calendar_transfers.refresh_calendar(ctx)
            name = scheduler_name()
            started = timer_starts.run_due(ctx) + rotation.run_due(ctx)
            fired = timers.run_due(ctx, name, lease=lease, batch_size=batch_size, threads=threads)
            click.echo(f"{name}: {fired} timers fired, {started} instances started by timer")
            return
        runner = TimerScheduler(
            ctx,
            blocking=True,
            poll_seconds=poll_seconds,
            lease=lease,
            batch_size=batch_size,
            fire_threads=threads,
        )
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: runner.shutdown())
        click.echo(f"timer scheduler {runner.name} running, {threads} fire thread(s)")
        runner.start()
        click.echo(f"timer scheduler {runner.name} stopped: {runner.fired} timers fired")

    @app.cli.command("setup")
    @click.option("--demo/--no-demo", default=True, help="create demo users and instances")
    def setup(demo: bool) -> None:
        """Upgrade the database, create the first admin, deploy bpmn/ and forms/, load demo data."""
        from ..services.operations import demo as demo_data

        ctx = _services()
        upgrade(current_app.extensions["db_engine"])
        created = users.ensure_groups(
            ctx, {**users.PROCEDURE_GROUPS, "analysts": "Analysts", "admins": "Administrators"}
        )
        if created:
            click.echo(f"groups created: {', '.join(created)}")
        if ctx.settings.admin_password and users.ensure_admin(ctx, ctx.settings.admin_password):
            click.echo("administrator 'admin' created from ADMIN_PASSWORD")
        if demo:
            password = demo_data.create_demo_users(ctx)
            if password:
                click.echo(f"demo users created; every demo user's password is: {password}")
        try:
            for result in deployments.deploy_folders(
                ctx, SYSTEM, ctx.settings.bpmn_dir, ctx.settings.forms_dir
            ):
                click.echo(
                    f"{result.model_id}: version {result.version}"
                    f" ({'new version' if result.created else 'unchanged'})"
                )
        except AppError as exc:
            _fail(exc)
        if demo:
            started = demo_data.create_demo_instances(ctx)
            if started:
                click.echo(f"{started} demo instances started")
