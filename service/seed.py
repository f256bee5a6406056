"""Demo data for `make run`: each domain seeds its own part; running it twice changes nothing."""

import asyncpg

from service.settings import Settings
from service.storage import MediaStore
from service.tourism.seeding import seed_tourism
from service.traceability.seed import seed_traceability


async def seed_demo(conn: asyncpg.Connection, settings: Settings, store: MediaStore | None = None) -> str:
    """Load the demo data of both domains; returns a summary for the terminal.

    The CLI passes the configured media store, so seed audio and models become media items; without
    one (tests that only need content) tracks point at the shipped files.
    """
    lines = [
        await seed_traceability(conn, settings, store),
        await seed_tourism(conn, store, settings),
    ]
    # what a shopper's camera would open: a few demo batches, the recalled one among them
    rows = await conn.fetch(
        """
        select b.code, b.status, p.names ->> 'vi' as product
        from batches b join products p on p.id = b.product_id
        where p.names ->> 'vi' like '%(dữ liệu mẫu / demo)%'
        order by (b.status = 'recalled') desc, b.created_at
        limit 4
        """
    )
    lines += [f"  shopper page: {settings.base_url}/trace/{r['code']}  ({r['product']}, {r['status']})" for r in rows]
    return "\n".join(lines)
