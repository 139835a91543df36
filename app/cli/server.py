"""Commands that run the server: `serve` (alias `web`), `scheduler`, `migrate` (once per
release, under a lock), `setup` (the embedded default's first start) and `backup`. The image and
the tests start them through one script, deploy/entrypoint.sh."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app

from ..db.migrate import migration_lock, upgrade
from ..errors import AppError
from ..observability import configure_logging
from ..services.modelling import deployments
from ..services.people import users
from ..services.people.users import SYSTEM
from .common import fail, services


def register_server_commands(app: Flask) -> None:
    @app.cli.command("serve")
    @click.option("--host", default="127.0.0.1", envvar="WEB_HOST", show_envvar=True)
    @click.option("--port", default=5000, type=int, envvar="WEB_PORT", show_envvar=True)
    @click.option(
        "--threads",
        default=4,
        type=click.IntRange(min=1),
        envvar="WEB_THREADS",
        show_envvar=True,
        help="request threads per process",
    )
    @click.option(
        "--workers",
        default=1,
        envvar="WEB_WORKERS",
        show_envvar=True,
        type=click.IntRange(min=1),
        help="worker processes, each with its own application configured from the environment",
    )
    @click.option(
        "--scheduler/--no-scheduler",
        default=True,
        envvar="WEB_SCHEDULER",
        show_envvar=True,
        help="fire timers in each serving process (off where scheduler services run)",
    )
    def serve(host: str, port: int, threads: int, workers: int, scheduler: bool) -> None:
        """Serve the application with granian worker processes (see app/serving.py)."""
        from ..serving import serve as serve_app

        configure_logging(services().settings)
        click.echo(f"serving on http://{host}:{port} ({workers} process(es) of {threads} threads)")
        serve_app(host, port, workers, threads, scheduler)

    app.cli.add_command(serve, "web")

    @app.cli.group("scheduler", invoke_without_command=True)
    @click.pass_context
    def scheduler_group(context: click.Context) -> None:
        """The timer scheduler (several may run against one PostgreSQL database); alone: `run`."""
        if context.invoked_subcommand is None:
            context.invoke(scheduler_run)

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

        ctx = services()
        configure_logging(ctx.settings)
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
    @click.option(
        "--demo/--no-demo", default=None, help="create demo users and instances (not in production)"
    )
    def setup(demo: bool | None) -> None:
        """Upgrade the database, create the first admin, deploy bpmn/ and forms/, load demo data."""
        settings = services().settings
        _prepare_database(demo=(not settings.production) if demo is None else demo)

    @app.cli.command("migrate")
    def migrate() -> None:
        """Once per release, before the servers start: upgrade the schema, create the groups and
        the first admin, deploy bpmn/ and forms/. Two at once are safe: the second waits."""
        configure_logging(services().settings)
        _prepare_database(demo=False)

    @app.cli.command("backup")
    @click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
    def backup(target: Path) -> None:
        """A consistent copy of the SQLite database in TARGET, taken while the server runs
        (PostgreSQL: use pg_dump, see the README)."""
        from ..db.backup import backup_sqlite

        try:
            pages = backup_sqlite(current_app.extensions["db_engine"], target)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"backed up {pages} pages to {target}")


def _prepare_database(*, demo: bool) -> None:
    """The schema, groups, first admin and procedures, under the migration lock."""
    from ..services.operations import demo as demo_data

    ctx = services()
    engine = current_app.extensions["db_engine"]
    with migration_lock(engine):
        upgrade(engine)
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
            fail(exc)
        if demo:
            started = demo_data.create_demo_instances(ctx)
            if started:
                click.echo(f"{started} demo instances started")
