"""Stock levels from a CSV file (`oaas inventory import`): a warehouse system's export.

The file has a header row with `node`, `sku` and `on_hand` (other columns are
ignored). The whole file is read and checked first, every bad line named;
then it is applied in batches, each batch one transaction through the same
service as the API (so reservations are respected and waiting orders woken).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from oaas.db import SYSTEM_SCOPE, Database, RowScope, acting_for
from oaas.errors import OaasError, Problem, Problems, ValidationFailed
from oaas.lifecycle.changes import change_stock
from oaas.policy import Principal, system_principal
from oaas.routing.nodes import Operation, list_nodes
from oaas.routing.validation import StockInput, check_stock, code_key
from oaas.tenancy.service import find_tenant
from oaas.text import quote

COLUMNS = ("node", "sku", "on_hand")
SYSTEM_PRINCIPAL = system_principal("stock-import")
MAX_PROBLEMS = 50


class StockFileError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class ImportResult:
    rows: int
    changed: int
    orders_woken: int


def read_stock_csv(path: Path) -> list[StockInput]:
    problems: list[str] = []
    rows: list[StockInput] = []
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as error:
        raise StockFileError([f"{path}: cannot read: {error.strerror or error}"]) from error
    with handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise StockFileError([f"{path}: line 1: missing column(s) {', '.join(missing)}"])
        for number, record in enumerate(reader, start=2):
            node, sku, count = ((record.get(c) or "").strip() for c in COLUMNS)
            if not node:
                problems.append(f"{path}: line {number}: node is empty")
            elif not (count.isascii() and count.isdigit()):
                problems.append(f"{path}: line {number}: on_hand must be a whole number >= 0")
            else:
                rows.append(StockInput(node=node, sku=sku, on_hand=int(count)))
            if len(problems) >= MAX_PROBLEMS:
                problems.append(f"{path}: stopped after {MAX_PROBLEMS} problems")
                break
    if not problems:
        found = Problems()
        check_stock(rows, found)
        problems = [_line_problem(path, problem) for problem in list(found)[:MAX_PROBLEMS]]
    if problems:
        raise StockFileError(problems)
    return rows


def _line_problem(source: object, problem: Problem, offset: int = 0) -> str:
    """`<file>: line N: message`; `problem.path` starts with the row's index (of the
    rows given to one call, the first at `offset`), the header is line 1."""
    index = problem.path[0] if problem.path else None
    line = str(offset + index + 2) if isinstance(index, int) else "?"
    return f"{source}: line {line}: {problem.message}"


async def _check_nodes(
    database: Database,
    merchant_handle: str,
    operator_handle: str | None,
    rows: list[StockInput],
    source: str,
) -> None:
    """Every line's node exists and is the operator's, before any batch is applied."""
    async with database.session(write=False, scope=SYSTEM_SCOPE) as session:
        operation = await _operation(session, merchant_handle, operator_handle)
        mine = {
            code_key(node.code)
            for node in await list_nodes(session, SYSTEM_PRINCIPAL, operation)
            if node.partner_tenant_id == operation.partner_id
        }
    problems = [
        f"{source}: line {number}: no node {quote(row.node)} "
        + (f"operated by {operator_handle}" if operator_handle else "of the merchant's own")
        for number, row in enumerate(rows, start=2)
        if code_key(row.node) not in mine
    ]
    if problems:
        raise StockFileError(problems[:MAX_PROBLEMS])


def _batches(rows: list[StockInput], size: int) -> Iterator[list[StockInput]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


async def _operation(
    session: AsyncSession, merchant_handle: str, operator_handle: str | None
) -> Operation:
    merchant = await find_tenant(session, merchant_handle)
    if merchant is None:
        raise StockFileError([f"no merchant {merchant_handle!r}"])
    operator = await find_tenant(session, operator_handle) if operator_handle else None
    if operator_handle and operator is None:
        raise StockFileError([f"no partner {operator_handle!r}"])
    return Operation(merchant, operator.id if operator else None)


async def import_stock(
    database: Database,
    principal: Principal,
    merchant_handle: str,
    rows: list[StockInput],
    *,
    source: str = "stock",
    operator_handle: str | None = None,
    batch: int = 1000,
    progress: Callable[[int], None] = lambda _done: None,
) -> ImportResult:
    """Applies the rows batch by batch; a bad batch stops the import with its lines named
    (the batches before it stay applied, and saying so is the caller's job).

    Each batch is one transaction and one audit entry in the merchant's log: an entry
    written apart from its batch could be lost while the batch stays applied."""
    await _check_nodes(database, merchant_handle, operator_handle, rows, source)
    changed = woken = 0
    for index, chunk in enumerate(_batches(rows, batch)):
        # Each batch commits with its own audit entry, naming its lines (the header is line 1).
        first_line = index * batch + 2
        lines = f"lines {first_line}-{first_line + len(chunk) - 1} of {source}"
        try:
            async with database.session(write=True, scope=SYSTEM_SCOPE) as session:
                operation = await _operation(session, merchant_handle, operator_handle)
                async with acting_for(session, RowScope("tenant", operation.merchant.id)):
                    done = await change_stock(
                        session, principal, operation, chunk, (), source=lines
                    )
        except OaasError as error:
            found = (
                error.problems
                if isinstance(error, ValidationFailed) and error.problems
                else [Problem((), error.message, error.code)]
            )
            problems = [_line_problem(source, p, index * batch) for p in found[:MAX_PROBLEMS]]
            if index:
                problems.append(f"the {index * batch} rows before this batch were applied")
            raise StockFileError(problems) from error
        changed += done[0]
        woken += done[1]
        progress(len(chunk))
    return ImportResult(rows=len(rows), changed=changed, orders_woken=woken)
