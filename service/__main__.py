"""Command line: serve | migrate | seed | narrate | create-user | worker | backup | restore | verify-log."""

import argparse
import asyncio
import contextlib
import getpass
import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import asyncpg

from service.auth.schemas import ROLES
from service.auth.service import create_user
from service.core.db import EmbeddedPostgres, init_connection
from service.core.errors import ServiceError
from service.core.metrics_server import MULTIPROC_ENV, metrics_port, workers_metrics_dir
from service.core.migrate import MigrationError, migrate
from service.core.observability import configure_logging
from service.settings import ConfigError, Settings
from service.storage import build_media_store
from service.tourism.media.narration import NarrationError

# granian's event loop: uvloop (libuv's, in C) wherever it installs (pyproject.toml), asyncio's own elsewhere
_SERVER_LOOP = ("--loop", "uvloop") if sys.platform != "win32" else ()


def granian_command(factory: str, host: str, port: int, workers: int, *more: str) -> list[str]:
    """How a server of this project is started: granian's ASGI interface on an app factory, on uvloop, without
    granian's access log (the edge writes its own). The bench's bare app and the tests' servers use it too, so
    they run under the very settings production does."""
    return [
        sys.executable, "-m", "granian", "--interface", "asgi", "--factory", factory,
        "--host", host, "--port", str(port), "--workers", str(workers), "--no-access-log", *_SERVER_LOOP, *more,
    ]  # fmt: skip


class DatabaseSession:
    """The DSN to use: DATABASE_URL, or the embedded server started (and stopped) for this command."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.embedded: EmbeddedPostgres | None = None

    def __enter__(self) -> str:
        if self.settings.database_url:
            return self.settings.database_url
        self.embedded = EmbeddedPostgres(self.settings.pg_data_dir)
        return self.embedded.start()

    def __exit__(self, *_: object) -> None:
        if self.embedded is not None:
            self.embedded.stop()


async def _migrate(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        applied = await migrate(conn)
        print(f"migrations applied: {len(applied)}" + (f" ({', '.join(applied)})" if applied else " (up to date)"))
    finally:
        await conn.close()


class PasswordInputError(Exception):
    """No usable password was given; the message is one line for the operator."""


def read_password(from_stdin: bool) -> str:
    """The new user's password from standard input (first line) or a prompt typed twice: never from argv,
    where `ps` and the shell history would show it."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Mật khẩu / Password: ")
        if getpass.getpass("Nhập lại / Again: ") != password:
            raise PasswordInputError("the two passwords differ")
    if not password:
        raise PasswordInputError("no password given")
    return password


async def _create_user(dsn: str, args: argparse.Namespace, password: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        user = await create_user(conn, phone=args.phone, password=password, full_name=args.name, role=args.role)
        print(f"created {user.role} {user.phone} ({user.id})")
    finally:
        await conn.close()


async def _seed(dsn: str, settings: Settings) -> None:
    from service.seed import seed_demo

    conn = await asyncpg.connect(dsn)
    await init_connection(conn)
    try:
        await migrate(conn)
        async with build_media_store(settings) as store:
            summary = await seed_demo(conn, settings, store)
        print(summary)
    finally:
        await conn.close()


async def _narrate(dsn: str, settings: Settings, site: str, lang: str) -> None:
    """Synthesise the missing tracks of a site in one language, with a progress bar on stderr."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from service.tourism.editing.narrate import narrate_site

    bar = Progress(
        TextColumn("narrating {task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    )
    task = bar.add_task("", total=None)

    def progress(done: int, total: int, label: str) -> None:
        # Shown from the first report on: a bad site or language fails before it, with one error line only.
        if not bar.live.is_started:
            bar.start()
        bar.update(task, completed=done, total=total, description=label or f"{site} ({lang})")

    conn = await asyncpg.connect(dsn)
    await init_connection(conn)
    try:
        async with build_media_store(settings) as store:
            made = await narrate_site(conn, store, site, lang, progress)
    finally:
        if bar.live.is_started:
            bar.stop()
        await conn.close()
    what = "track" if made == 1 else "tracks"
    print(f"narrated {made} machine-generated {what} for {site} in {lang}" + ("" if made else " (none missing)"))


async def _worker(dsn: str, settings: Settings) -> None:
    """The scheduled jobs (and EPCIS webhook deliveries) in a process of their own, until SIGTERM or Ctrl-C."""
    from service.jobs import JobContext, JobRunner
    from service.schedule import scheduled_jobs
    from service.traceability.epcis.webhooks import dispatcher

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=4, init=init_connection)
    try:
        async with build_media_store(settings) as store, dispatcher(pool, settings):  # and EPCIS webhooks
            runner = JobRunner(
                JobContext(pool, store, settings, dsn),
                scheduled_jobs(settings),
                tick_seconds=settings.jobs_tick_seconds,
            )
            runner.start()
            print(f"job worker {runner.worker}: {', '.join(job.name for job in runner.jobs)}", flush=True)
            await stop.wait()
            await runner.close()
    finally:
        await pool.close()


async def _backup(dsn: str, settings: Settings) -> None:
    from service.backup import backup

    async with build_media_store(settings) as store:
        manifest = await backup(dsn, store, keep=settings.backup_keep)
    print(
        f"backup {manifest.key}: {manifest.size} bytes, sha256 {manifest.sha256} (PostgreSQL {manifest.server_version})"
    )


async def _restore(dsn: str, settings: Settings, key: str | None, force: bool) -> None:
    from service.backup import restore

    async with build_media_store(settings) as store:
        manifest = await restore(dsn, store, key, force=force)
    print(f"restored {manifest.key} (taken {manifest.created:%Y-%m-%d %H:%M:%S} UTC)")
    await _migrate(dsn)  # a backup from an older release catches up with this one's migrations


def serve(settings: Settings, dsn: str) -> int:
    """Run granian in its own session and stop it with one SIGTERM.

    A terminal's Ctrl-C signals the whole process group; granian's workers then get the signal twice
    (from the terminal and from their master) and hang. Here only this process sees Ctrl-C and it asks
    granian to stop once, then the embedded database is stopped after the last worker has gone.
    """
    command = granian_command(
        "service.asgi:build", settings.host, settings.port, settings.workers, "--respawn-failed-workers"
    )
    env = {**os.environ, "DATABASE_URL": dsn}  # the workers build the app from the DSN settled on here
    print(f"serving on http://{settings.host}:{settings.port}  (workers: {settings.workers})", flush=True)
    for label, path in (
        *((("API documentation", "/schema"),) if settings.serves_schema else ()),
        ("heritage sites", "/api/v1/sites"),
        ("open data", "/open-data/catalog.json"),
        ("open data (DCAT, JSON-LD)", "/open-data/catalog.jsonld"),
        ("open data (data package)", "/open-data/datapackage.json"),
        ("readiness", "/health/ready"),
    ):
        print(f"  {label:27} {settings.base_url}{path}", flush=True)
    with contextlib.ExitStack() as stack:
        if settings.metrics_port is not None:
            directory = stack.enter_context(workers_metrics_dir())
            env[MULTIPROC_ENV] = str(directory)
            stack.enter_context(metrics_port(settings.metrics_host, settings.metrics_port, directory))
            print(f"  {'metrics (all workers)':27} http://{settings.metrics_host}:{settings.metrics_port}/metrics")
        server = subprocess.Popen(command, env=env, start_new_session=True)

        def stop(signum: int, _frame: object) -> None:
            if server.poll() is None:
                server.send_signal(signal.SIGTERM)

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        return server.wait()


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Run one command; `environ` stands in for os.environ (tests pass their own settings this way)."""
    parser = argparse.ArgumentParser(prog="python -m service", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the HTTP server (migrates first)")
    sub.add_parser("migrate", help="apply pending migrations")
    sub.add_parser("seed", help="load the demo data (idempotent)")
    sub.add_parser("worker", help="run the scheduled jobs (one leader at a time across machines) until stopped")
    sub.add_parser("backup", help="dump the database (pg_dump -Fc) to the media store, keeping the newest BACKUP_KEEP")
    rs = sub.add_parser("restore", help="load a backup from the media store into an empty database")
    which = rs.add_mutually_exclusive_group()
    which.add_argument("--latest", action="store_true", help="the newest backup (the default)")
    which.add_argument("key", nargs="?", help="a backup's key, e.g. backups/20261130T101500000000Z.dump")
    rs.add_argument("--force", action="store_true", help="empty a non-empty database first (its data is lost)")
    cu = sub.add_parser("create-user", help="create a user of any role (bootstrap an admin)")
    cu.add_argument("--role", choices=ROLES, required=True)
    cu.add_argument("--phone", required=True)
    cu.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input (otherwise it is asked for)",
    )
    cu.add_argument("--name", default="Administrator")
    na = sub.add_parser("narrate", help="synthesise machine narration for points missing a track (espeak-ng)")
    na.add_argument("--site", required=True, help="site slug, e.g. ho-nui-coc")
    na.add_argument("--lang", required=True, help="vi or en")
    vl = sub.add_parser(
        "verify-log",
        help="check a service's transparency log and public hash chains against a checkpoint saved earlier",
    )
    vl.add_argument("--base-url", required=True, help="the service, e.g. https://trace-tour-thainguyen.fly.dev")
    vl.add_argument("--checkpoint", required=True, type=Path, help="a checkpoint JSON from /transparency/checkpoint")
    vl.add_argument("--save", type=Path, help="when all holds, write the current checkpoint here (for the next run)")
    args = parser.parse_args(argv)

    if args.command == "verify-log":  # a client of any service: no settings, no database
        from service.traceability.transparency.audit import verify_log_at

        return asyncio.run(verify_log_at(args.base_url, args.checkpoint, sys.stdout, args.save))

    try:
        settings = Settings.from_env(environ)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    password = ""
    if args.command == "create-user":
        try:
            password = read_password(args.password_stdin)
        except (PasswordInputError, EOFError) as exc:
            print(f"error: {exc or 'no password given'}", file=sys.stderr)
            return 2
    try:
        with DatabaseSession(settings) as dsn:
            if args.command == "migrate":
                asyncio.run(_migrate(dsn))
            elif args.command == "seed":
                asyncio.run(_seed(dsn, settings))
            elif args.command == "narrate":
                asyncio.run(_narrate(dsn, settings, args.site, args.lang))
            elif args.command == "create-user":
                asyncio.run(_create_user(dsn, args, password))
            elif args.command == "backup":
                asyncio.run(_backup(dsn, settings))
            elif args.command == "restore":
                asyncio.run(_restore(dsn, settings, args.key, args.force))
            elif args.command == "worker":
                asyncio.run(_worker(dsn, settings))
            elif args.command == "serve":
                asyncio.run(_migrate(dsn))
                return serve(settings, dsn)
    except (MigrationError, ServiceError, NarrationError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
