"""Node codes unique per merchant regardless of case.

Codes were compared exactly, so `hamburg-swift` could sit beside `HAMBURG-SWIFT`
and a stock file naming one could not be told from the other. Codes keep the
spelling they were given and are now compared case-insensitively, held by a unique
index on (tenant_id, lower(code)).

Existing nodes whose codes differ only in case are renamed, deterministically: in
each such group the oldest node (by creation time, then id) keeps its code, each
later one gets the first free `<code>-2`, `<code>-3`, ... (cut to 64 characters),
and every rename is logged. The old exact unique constraint stays: it is implied
by the new index, and SQLite could drop it only by rebuilding the table, which
would cascade to the nodes' stock and loads.

Revision ID: 0012_node_codes_nocase
Revises: 0011_client_credential_version
Create Date: 2026-12-04
"""

import logging
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0012_node_codes_nocase"
down_revision: str | None = "0011_client_credential_version"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

INDEX = "uq_fulfilment_nodes_tenant_id_lower_code"
MAX_CODE_LENGTH = 64
log = logging.getLogger("alembic.runtime.migration")

_nodes = sa.table(
    "fulfilment_nodes",
    sa.column("tenant_id", sa.Uuid()),
    sa.column("id", sa.Uuid()),
    sa.column("code", sa.String()),
    sa.column("created_at", sa.DateTime()),
)


def _free_code(code: str, taken: set[str]) -> str:
    """`code` with the first suffix -2, -3, ... whose lower case is not taken."""
    number = 2
    while True:
        suffix = f"-{number}"
        candidate = code[: MAX_CODE_LENGTH - len(suffix)] + suffix
        if candidate.lower() not in taken:
            return candidate
        number += 1


def _renames(rows: Sequence[Any]) -> list[tuple[Any, Any, str, str]]:
    """(tenant_id, id, old code, new code) for every node whose code a node created
    before it already holds in another case. `rows` come oldest first."""
    taken: dict[Any, set[str]] = {}
    for row in rows:
        taken.setdefault(row.tenant_id, set()).add(row.code.lower())
    seen: dict[Any, set[str]] = {}
    renames = []
    for row in rows:
        mine = seen.setdefault(row.tenant_id, set())
        if row.code.lower() not in mine:
            mine.add(row.code.lower())
            continue
        new_code = _free_code(row.code, taken[row.tenant_id])
        taken[row.tenant_id].add(new_code.lower())
        mine.add(new_code.lower())
        renames.append((row.tenant_id, row.id, row.code, new_code))
    return renames


def upgrade() -> None:
    bind = op.get_bind()
    forced = False
    if bind.dialect.name == "postgresql":
        # Forced row-level security hides rows from the table's owner too: the renames
        # must see every merchant's nodes. Restored below, in the same transaction.
        forced = bool(
            bind.execute(
                sa.text(
                    "SELECT relforcerowsecurity FROM pg_class "
                    "WHERE oid = 'fulfilment_nodes'::regclass"
                )
            ).scalar()
        )
        if forced:
            op.execute("ALTER TABLE fulfilment_nodes NO FORCE ROW LEVEL SECURITY")
    rows = bind.execute(
        sa.select(_nodes.c.tenant_id, _nodes.c.id, _nodes.c.code).order_by(
            _nodes.c.tenant_id, _nodes.c.created_at, _nodes.c.id
        )
    ).all()
    for tenant_id, node_id, old_code, new_code in _renames(rows):
        log.warning(
            "node code %r of tenant %s differs from an older node's only in case: renamed %r",
            old_code,
            tenant_id,
            new_code,
        )
        bind.execute(
            sa.update(_nodes)
            .where(_nodes.c.tenant_id == tenant_id, _nodes.c.id == node_id)
            .values(code=new_code)
        )
    if forced:
        op.execute("ALTER TABLE fulfilment_nodes FORCE ROW LEVEL SECURITY")
    op.create_index(INDEX, "fulfilment_nodes", ["tenant_id", sa.text("lower(code)")], unique=True)


def downgrade() -> None:
    # Renamed codes keep their new names: which spelling was first is not recorded.
    op.drop_index(INDEX, table_name="fulfilment_nodes")
