"""The pool hands every request a connection as clean as a new one, without a reset query per release.

The pool does not send asyncpg's reset statements (service/core/db.py: keep_session); these tests hold what
makes that safe: asyncpg still rolls back what a request left open, transaction-local settings end with
their transaction, the job runner's leadership lock never rides along to the next borrower, and no code
outside the three places that use their own connections (or give their lock back) creates session state.
"""

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest

from service.core.db import create_pool
from service.jobs import JobContext, JobRunner
from service.settings import Settings
from tests.jobs.test_runner import counting_job

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def pool_of(database_url: str) -> AsyncIterator[Callable[[int], Awaitable[asyncpg.Pool]]]:
    """Pools of exactly `size` connections on the test's database (closed after the test)."""
    pools: list[asyncpg.Pool] = []

    async def make(size: int) -> asyncpg.Pool:
        pools.append(await create_pool(database_url, min_size=size, max_size=size))
        return pools[-1]

    yield make
    for pool in pools:
        await pool.close()


@pytest.fixture
async def one_connection(pool_of: Callable[[int], Awaitable[asyncpg.Pool]]) -> asyncpg.Pool:
    """One connection in the pool: whoever borrows next gets exactly the connection given back."""
    return await pool_of(1)


async def backend(pool: asyncpg.Pool) -> int:
    async with pool.acquire() as conn:
        pid: int = await conn.fetchval("select pg_backend_pid()")
        return pid


async def test_a_transaction_left_open_is_rolled_back_before_the_next_borrower(
    one_connection: asyncpg.Pool, db: asyncpg.Connection
) -> None:
    first = await backend(one_connection)
    async with one_connection.acquire() as conn:
        await conn.execute("begin")
        await conn.execute("insert into job_runs (job, worker) values ('left.open', 'test')")
    async with one_connection.acquire() as conn:
        assert await conn.fetchval("select pg_backend_pid()") == first  # the same connection, reused
        assert not conn.is_in_transaction()
        assert await conn.fetchval("select count(*) from job_runs where job = 'left.open'") == 0
    assert await db.fetchval("select count(*) from job_runs") == 0


async def test_a_transactions_own_settings_end_with_it(one_connection: asyncpg.Pool) -> None:
    """The registration's `synchronous_commit off` (batches/queries.py) must not reach the next request."""
    async with one_connection.acquire() as conn, conn.transaction():
        await conn.execute("select set_config('synchronous_commit', 'off', true)")
        assert await conn.fetchval("show synchronous_commit") == "off"
    async with one_connection.acquire() as conn:
        assert await conn.fetchval("show synchronous_commit") == "on"


@pytest.fixture
async def two_connections(pool_of: Callable[[int], Awaitable[asyncpg.Pool]]) -> asyncpg.Pool:
    """A leader holds one connection and borrows another for its record of runs."""
    return await pool_of(2)


async def advisory_locks(db: asyncpg.Connection) -> int:
    count: int = await db.fetchval("select count(*) from pg_locks where locktype = 'advisory' and granted")
    return count


async def test_the_leaders_lock_goes_when_it_stops_and_its_connection_comes_back_without_it(
    two_connections: asyncpg.Pool, db: asyncpg.Connection, settings: Settings
) -> None:
    leader = JobRunner(JobContext(two_connections, None, settings), [counting_job("demo.pool", 60, [])])
    assert await leader.step() == ["demo.pool"]
    assert await advisory_locks(db) == 1
    await leader.close()
    # both of the pool's connections are still open (it would otherwise hide a lock that rode along)
    pooled = "select count(*) from pg_stat_activity where application_name = 'trace-tour' and datname = $1"
    assert await db.fetchval(pooled, await db.fetchval("select current_database()")) == 2
    assert await advisory_locks(db) == 0
    follower = JobRunner(JobContext(two_connections, None, settings), [counting_job("demo.pool", 60, [])])
    assert await follower.step() == []  # ran at the leader's turn: not due again for a minute
    assert follower.leading and await advisory_locks(db) == 1
    await follower.close()


async def test_a_leader_whose_connection_was_cut_stops_cleanly_and_another_leads(
    two_connections: asyncpg.Pool, db: asyncpg.Connection, settings: Settings
) -> None:
    leader = JobRunner(JobContext(two_connections, None, settings), [counting_job("demo.cut", 60, [])])
    await leader.step()
    await db.execute("select pg_terminate_backend(pid) from pg_locks where locktype = 'advisory'")
    await leader.close()  # giving the lock back fails: the connection is closed, not handed on
    assert await advisory_locks(db) == 0
    other = JobRunner(JobContext(two_connections, None, settings), [counting_job("demo.cut", 60, [])])
    await other.step()
    assert other.leading
    await other.close()


# Statements that leave state in a PostgreSQL session beyond its transaction, and the only files allowed
# to make them: each on a connection of its own, or giving the state back before the pool has the connection.
SESSION_STATE = re.compile(
    r"pg_(try_)?advisory_lock\(|add_listener\(|set_config\([^)]*,\s*false\s*\)|\bcreate\s+temp(orary)?\s|with\s+hold\b"
    # a statement of its own (after a quote, a parenthesis or a semicolon), not an UPDATE's SET
    r"|[;\"'(]\s*(set\s+(session\s+)?[a-z_.]+\s*(=|\bto\b)|listen\s+[a-z_])",
    re.IGNORECASE,
)
MAY_HOLD_SESSION_STATE = {
    "service/core/changes.py",  # LISTEN, on its own connection
    "service/core/migrate.py",  # the migration lock, on the migrating command's own connection
    "service/jobs/queries.py",  # the leader's lock, released before its connection goes back (jobs/__init__.py)
}


def test_no_other_code_leaves_state_on_a_pooled_connection() -> None:
    found = {
        str(path.relative_to(ROOT))
        for path in [*ROOT.joinpath("service").rglob("*.py"), *ROOT.joinpath("migrations").glob("*.sql")]
        if SESSION_STATE.search(path.read_text(encoding="utf-8"))
    }
    assert found == MAY_HOLD_SESSION_STATE


def test_the_guard_sees_what_it_looks_for() -> None:
    for statement in (
        "select pg_advisory_lock($1)",
        "await conn.add_listener(CHANNEL, cb)",
        '"set statement_timeout = 0"',
        "select set_config('work_mem', '64MB', false)",
        "create temporary table t (x int)",
        """execute(\"\"\"
        set statement_timeout to 0\"\"\")""",
        "execute('listen changes')",
    ):
        assert SESSION_STATE.search(statement), statement
    for statement in (
        '"""\n        update batches\n        set last_seq = $2',
        "select set_config('synchronous_commit', 'off', true)",
        "LISTEN has a connection of its own",
    ):
        assert not SESSION_STATE.search(statement), statement
