"""An order event's payload: the order as the API shows it once its change committed.

Events are appended while the order is still changing (createOrder writes
CREATED, then routes, then numbers the order), so the payload is written just
before the commit, from the order as the transaction leaves it: one read of
the order and its lines per transaction, whatever the number of its events.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import event, select, tuple_, update
from sqlalchemy.orm import Session

from oaas.db.scoping import ScopedSession
from oaas.orders.records import LineRecord, OrderRecord
from oaas.orders.repository import lines, order_record, orders
from oaas.outbox.store import PENDING_PAYLOADS, WRITTEN, outbox
from oaas.policy.shares import SharedField, ShareKind
from oaas.sharing.views import Viewer

# Where each field a share profile may hide sits in the payload.
_ORDER_KEYS = {
    SharedField.ORDER_TOTAL: "total",
    SharedField.ORDER_CUSTOMER_EMAIL: "customerEmail",
    SharedField.ORDER_RISK: "risk",
}
_LINE_KEYS = {SharedField.LINE_UNIT_PRICE: "unitPrice"}
# session.info: the transaction that just committed wrote events.
COMMITTED = "outbox_committed"


def _instant(value: Any) -> str:
    return str(value.isoformat())


def order_payload(order: OrderRecord, order_lines: Sequence[LineRecord]) -> dict[str, Any]:
    """The order with the `Order` type's camelCase keys; amounts as strings, never floats."""
    address = order.shipping_address
    return {
        "number": order.number,
        "externalId": order.external_id,
        "status": order.status.value,
        "channel": order.channel,
        "currency": order.currency,
        "total": str(order.total),
        "customerEmail": order.customer_email,
        "shippingAddress": {
            "name": address.name,
            "line1": address.line1,
            "line2": address.line2,
            "city": address.city,
            "region": address.region,
            "postalCode": address.postal_code,
            "country": address.country,
        },
        "trackingNumber": order.tracking_number,
        "carrier": order.carrier,
        "cancelReason": order.cancel_reason,
        "createdAt": _instant(order.created_at),
        "updatedAt": _instant(order.updated_at),
        "lines": [
            {
                "sku": line.sku,
                "quantity": line.quantity,
                "cancelledQuantity": line.cancelled_quantity,
                "unitPrice": str(line.unit_price),
            }
            for line in order_lines
        ],
    }


def payload_seen_by(payload: dict[str, Any], viewer: Viewer) -> dict[str, Any]:
    """The payload without the fields the viewer's share profile hides."""
    if not viewer.partner:
        return payload
    hidden = {key for field, key in _ORDER_KEYS.items() if not viewer.shows(ShareKind.FIELD, field)}
    hidden_in_lines = {
        key for field, key in _LINE_KEYS.items() if not viewer.shows(ShareKind.FIELD, field)
    }
    seen = {key: value for key, value in payload.items() if key not in hidden}
    if hidden_in_lines and isinstance(seen.get("lines"), list):
        seen["lines"] = [
            {key: value for key, value in line.items() if key not in hidden_in_lines}
            for line in seen["lines"]
        ]
    return seen


def _fill(session: Session) -> None:
    """Writes the payload of this transaction's order events (sync: a commit hook)."""
    if session.in_nested_transaction():
        return  # a savepoint's release: the transaction goes on
    pending = session.info.pop(PENDING_PAYLOADS, None)
    if not pending:
        return
    keys = sorted(pending)
    records = {
        (row.tenant_id, row.id): order_record(row)
        for row in session.execute(
            select(*orders.c).where(tuple_(orders.c.tenant_id, orders.c.id).in_(keys))
        )
    }
    found: dict[tuple[Any, Any], list[LineRecord]] = {key: [] for key in records}
    line_rows = session.execute(
        select(*lines.c)
        .where(tuple_(lines.c.tenant_id, lines.c.order_id).in_(keys))
        .order_by(lines.c.tenant_id, lines.c.order_id, lines.c.position)
    )
    for row in line_rows:
        key = (row.tenant_id, row.order_id)
        if key in records:
            found[key].append(LineRecord.from_row(row._mapping, records[key].currency))
    for key, record in records.items():
        session.execute(
            update(outbox.model)
            .where(
                outbox.c.tenant_id == key[0],
                outbox.c.order_id == key[1],
                outbox.c.position.is_(None),
                outbox.c.payload.is_(None),
            )
            .values(payload=order_payload(record, found[key]))
        )


def _committed(session: Session) -> None:
    if session.info.pop(WRITTEN, False):
        session.info[COMMITTED] = True


def install() -> None:
    """Hooks every session: the payloads before each commit, and after it a mark that
    the transaction wrote events (the GraphQL unit of work numbers them then)."""
    if not event.contains(ScopedSession, "before_commit", _fill):
        event.listen(ScopedSession, "before_commit", _fill)
        event.listen(ScopedSession, "after_commit", _committed)
