"""THE authorization matrix: every operation and shared field x every role-state x object.

One table, read by `test_matrix.py`, which runs every row through the API, and
checked against the schema: an operation or shared field without a row for every
role-state fails the suite. The answers follow contract.graphql's conventions,
policies/policy.csv and policies/README.md, not whatever the code does today.

Role-states (the columns), each a client of the demo tenants (tenants/demo.yaml)
in a given sharing situation. Acme shares with swiftship; "partner_*" are
swiftship-tms (partner_operator) unless said otherwise:

  PLAT    platform_admin      ops-admin
  MADM    merchant_admin      acme-backend
  MOP     merchant_operator   acme-shop
  MVIEW   merchant_viewer     acme-reports
  PADM    partner_admin       swiftship-admin, acme's demo grant: LOGISTICS, READ + UPDATE_FULFILLMENT
  PNONE   partner_no_grant    a partner_operator of a new partner tenant nobody ever shared with
  PLOG    partner_logistics   acme's demo grant: LOGISTICS, READ + UPDATE_FULFILLMENT
  PFULL   partner_full        acme re-grants FULL, READ + UPDATE_FULFILLMENT
  PREAD   partner_read_only   acme re-grants LOGISTICS, READ only
  PREVK   partner_revoked     acme revokes its grant
  PEXP    partner_expired     acme's grant is past its expiresAt

Objects (what the row acts on):

  own               the caller's tenant's: its order, an API client of it other than the
                    caller, its tenant, the grant it gave (merchant) or received (partner),
                    itself (viewer); apiClients: its tenant omitted or named, both alike
  other             another merchant's: globex's order, client, tenant, grant
  shared            acme's order, seen by a partner
  own_delivered     the caller's tenant's order, already DELIVERED
  shared_delivered  acme's order, already DELIVERED, seen by a partner
  own_held          the caller's tenant's order, ON_HOLD for risk review
  shared_held       acme's order ON_HOLD for risk review, seen by a partner
  new               nothing yet: the operation makes it (createTenant, putFulfillmentNode)

Fulfilment routing acts on a merchant's nodes, routing profile and
reports, chosen by a `merchant` argument (or input field):

  own               merchants: their own (merchant omitted, or their own handle: both
                    must answer alike); partners and the platform admin: merchant
                    omitted (their tenant is no merchant: they must name one, IN);
                    nodes: one the caller's side operates (a partner's: one it
                    operates for acme, naming acme)
  other             globex's, named ("globex"); nodes: a node of globex's
  shared            acme's, named ("acme") by a partner; nodes: one of acme's operated
                    by the other side (for acme's roles and the platform admin: one
                    swiftship operates for acme; for partners: one acme operates itself)

A query's INVALID is a GraphQL error with that code, as its NOT_FOUND is.

Outcomes (the cells):

  ok  ALLOWED           the operation does what it says for this object
  F   FORBIDDEN         the role (or token scope) lacks the action: the whole field is
                        null with one GraphQL error, extensions.code FORBIDDEN; nothing changes
  NF  NOT_FOUND         the object does not exist for the caller, word for word as a made-up
                        one: order(id) null, lists without it, mutations userError NOT_FOUND
                        (a query whose argument names a tenant: the GraphQL error NOT_FOUND
                        on the field, as a made-up handle gets); nothing changes
  NS  FIELD_NOT_SHARED  the share profile hides the field: null plus one GraphQL error
                        FIELD_NOT_SHARED at its path; the value appears nowhere in the answer
  P   PARTNER_PART      the share profile shows the partner its part of the object
                        (policies/share_policy.csv): of a routing decision the candidates
                        and assignments of the nodes it operates, with FIELD_NOT_SHARED for
                        their money fields, and a sentence of its own; of events the same
                        types with messages written for partners. Nothing hidden (the
                        merchant's sentences, risk figures, costs, other nodes) appears
                        anywhere in the answer
  R   REFUSED           the object is visible but the grant does not allow this action:
                        userError FORBIDDEN; nothing changes
  IS  INVALID_STATE     allowed, but the object's state forbids it: userError INVALID_STATE
  IN  INVALID           allowed, but this caller's input cannot be valid: userError INVALID
  .   (no row)          no such object for this role-state
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RoleState(StrEnum):
    PLATFORM_ADMIN = "platform_admin"
    MERCHANT_ADMIN = "merchant_admin"
    MERCHANT_OPERATOR = "merchant_operator"
    MERCHANT_VIEWER = "merchant_viewer"
    PARTNER_ADMIN = "partner_admin"
    PARTNER_NO_GRANT = "partner_no_grant"
    PARTNER_LOGISTICS = "partner_logistics"
    PARTNER_FULL = "partner_full"
    PARTNER_READ_ONLY = "partner_read_only"
    PARTNER_REVOKED = "partner_revoked"
    PARTNER_EXPIRED = "partner_expired"


class Obj(StrEnum):
    OWN = "own"
    OTHER = "other"
    SHARED = "shared"
    OWN_DELIVERED = "own_delivered"
    SHARED_DELIVERED = "shared_delivered"
    OWN_HELD = "own_held"
    SHARED_HELD = "shared_held"
    NEW = "new"


class Outcome(StrEnum):
    ALLOWED = "ALLOWED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    FIELD_NOT_SHARED = "FIELD_NOT_SHARED"
    PARTNER_PART = "PARTNER_PART"
    REFUSED = "REFUSED"
    INVALID_STATE = "INVALID_STATE"
    INVALID = "INVALID"


COLUMNS: dict[str, RoleState] = {
    "PLAT": RoleState.PLATFORM_ADMIN,
    "MADM": RoleState.MERCHANT_ADMIN,
    "MOP": RoleState.MERCHANT_OPERATOR,
    "MVIEW": RoleState.MERCHANT_VIEWER,
    "PADM": RoleState.PARTNER_ADMIN,
    "PNONE": RoleState.PARTNER_NO_GRANT,
    "PLOG": RoleState.PARTNER_LOGISTICS,
    "PFULL": RoleState.PARTNER_FULL,
    "PREAD": RoleState.PARTNER_READ_ONLY,
    "PREVK": RoleState.PARTNER_REVOKED,
    "PEXP": RoleState.PARTNER_EXPIRED,
}

CELLS: dict[str, Outcome | None] = {
    "ok": Outcome.ALLOWED,
    "F": Outcome.FORBIDDEN,
    "NF": Outcome.NOT_FOUND,
    "NS": Outcome.FIELD_NOT_SHARED,
    "P": Outcome.PARTNER_PART,
    "R": Outcome.REFUSED,
    "IS": Outcome.INVALID_STATE,
    "IN": Outcome.INVALID,
    ".": None,
}

# Shared fields are read through both order(id) and orders; mutations run on a
# fresh object each. Rows run in this order within a role-state, reads first.
TABLE = """
operation                       object            PLAT  MADM  MOP   MVIEW PADM  PNONE PLOG  PFULL PREAD PREVK PEXP

# ---- queries
Query.viewer                    own               ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok
Query.order                     own               .     ok    ok    ok    .     .     .     .     .     .     .
Query.order                     other             ok    NF    NF    NF    NF    NF    NF    NF    NF    NF    NF
Query.order                     shared            .     .     .     .     ok    NF    ok    ok    ok    NF    NF
Query.orders                    own               .     ok    ok    ok    .     .     .     .     .     .     .
Query.orders                    other             ok    NF    NF    NF    NF    NF    NF    NF    NF    NF    NF
Query.orders                    shared            .     .     .     .     ok    NF    ok    ok    ok    NF    NF
Query.events                    own               .     ok    ok    ok    .     .     .     .     .     .     .
Query.events                    other             ok    NF    NF    NF    NF    NF    NF    NF    NF    NF    NF
Query.events                    shared            .     .     .     .     ok    NF    ok    ok    ok    NF    NF
Query.orderAccessGrants         own               .     ok    ok    ok    ok    .     ok    ok    ok    ok    ok
Query.orderAccessGrants         other             ok    NF    NF    NF    NF    NF    NF    NF    NF    NF    NF
Query.tenants                   other             ok    F     F     F     F     F     F     F     F     F     F
Query.tenant                    own               ok    F     F     F     F     F     F     F     F     F     F
Query.tenant                    other             ok    F     F     F     F     F     F     F     F     F     F
Query.apiClients                own               ok    ok    F     F     ok    F     F     F     F     F     F
Query.apiClients                other             ok    NF    F     F     NF    F     F     F     F     F     F
Query.auditLog                  own               ok    ok    F     F     ok    F     F     F     F     F     F
Query.auditLog                  other             ok    NF    F     F     NF    F     F     F     F     F     F
Query.slaReport                 own               ok    ok    F     F     ok    F     F     F     F     F     F
Query.slaReport                 other             ok    NF    F     F     NF    F     F     F     F     F     F
Query.slaAlerts                 own               ok    ok    F     F     ok    F     F     F     F     F     F
Query.slaAlerts                 other             ok    NF    F     F     NF    F     F     F     F     F     F
Query.tenantSla                 own               ok    ok    F     F     ok    F     F     F     F     F     F
Query.tenantSla                 other             ok    NF    F     F     NF    F     F     F     F     F     F

# ---- routing and risk (routing:read; riskProfile: order:read)
Query.fulfillmentNodes          own               IN    ok    ok    ok    IN    IN    IN    IN    IN    IN    IN
Query.fulfillmentNodes          other             ok    NF    NF    NF    NF    NF    NF    NF    NF    NF    NF
Query.fulfillmentNodes          shared            .     .     .     .     ok    NF    ok    ok    ok    NF    NF
Query.routingProfile            own               IN    ok    ok    ok    IN    IN    IN    IN    IN    IN    IN
Query.routingProfile            other             ok    NF    NF    NF    NF    NF    NF    NF    NF    NF    NF
Query.routingProfile            shared            .     .     .     .     ok    NF    ok    ok    ok    NF    NF
Query.routingFairnessReport     own               IN    ok    ok    ok    IN    IN    IN    IN    IN    IN    IN
Query.routingFairnessReport     other             ok    NF    NF    NF    NF    NF    NF    NF    NF    NF    NF
Query.routingFairnessReport     shared            .     .     .     .     ok    NF    ok    ok    ok    NF    NF
Query.riskProfile               own               ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok

# ---- shared fields (hidden by the LOGISTICS profile)
Order.total                     own               .     ok    ok    ok    .     .     .     .     .     .     .
Order.total                     other             ok    NF    NF    NF    NF    NF    NF    NF    NF    NF    NF
Order.total                     shared            .     .     .     .     NS    NF    NS    ok    NS    NF    NF
Order.customerEmail             own               .     ok    ok    ok    .     .     .     .     .     .     .
Order.customerEmail             other             ok    NF    NF    NF    NF    NF    NF    NF    NF    NF    NF
Order.customerEmail             shared            .     .     .     .     NS    NF    NS    ok    NS    NF    NF
OrderLine.unitPrice             own               .     ok    ok    ok    .     .     .     .     .     .     .
OrderLine.unitPrice             other             ok    NF    NF    NF    NF    NF    NF    NF    NF    NF    NF
OrderLine.unitPrice             shared            .     .     .     .     NS    NF    NS    ok    NS    NF    NF
Order.risk                      own               .     ok    ok    ok    .     .     .     .     .     .     .
Order.risk                      other             ok    NF    NF    NF    NF    NF    NF    NF    NF    NF    NF
Order.risk                      shared            .     .     .     .     NS    NF    NS    ok    NS    NF    NF

# ---- events and routing decisions: a LOGISTICS partner sees its part (a routed order of
# acme's to its own node, globex's to its own; the held order of acme's)
Order.routing                   own               .     ok    ok    ok    .     .     .     .     .     .     .
Order.routing                   other             ok    NF    NF    NF    NF    NF    NF    NF    NF    NF    NF
Order.routing                   shared            .     .     .     .     P     NF    P     ok    P     NF    NF
Order.routingHistory            own               .     ok    ok    ok    .     .     .     .     .     .     .
Order.routingHistory            other             ok    NF    NF    NF    NF    NF    NF    NF    NF    NF    NF
Order.routingHistory            shared            .     .     .     .     P     NF    P     ok    P     NF    NF
Order.events                    own               .     ok    ok    ok    .     .     .     .     .     .     .
Order.events                    other             ok    NF    NF    NF    NF    NF    NF    NF    NF    NF    NF
Order.events                    shared            .     .     .     .     P     NF    P     ok    P     NF    NF
Order.events                    own_held          .     ok    ok    ok    .     .     .     .     .     .     .
Order.events                    shared_held       .     .     .     .     P     NF    P     ok    P     NF    NF
RoutingDecision.candidates      own               .     ok    ok    ok    .     .     .     .     .     .     .
RoutingDecision.candidates      other             ok    NF    NF    NF    NF    NF    NF    NF    NF    NF    NF
RoutingDecision.candidates      shared            .     .     .     .     P     NF    P     ok    P     NF    NF
RoutingDecision.assignments     own               .     ok    ok    ok    .     .     .     .     .     .     .
RoutingDecision.assignments     other             ok    NF    NF    NF    NF    NF    NF    NF    NF    NF    NF
RoutingDecision.assignments     shared            .     .     .     .     P     NF    P     ok    P     NF    NF
RoutingDecision.explanation     own               .     ok    ok    ok    .     .     .     .     .     .     .
RoutingDecision.explanation     other             ok    NF    NF    NF    NF    NF    NF    NF    NF    NF    NF
RoutingDecision.explanation     shared            .     .     .     .     P     NF    P     ok    P     NF    NF
RoutingCandidate.transportCost  own               .     ok    ok    ok    .     .     .     .     .     .     .
RoutingCandidate.transportCost  other             ok    NF    NF    NF    NF    NF    NF    NF    NF    NF    NF
RoutingCandidate.transportCost  shared            .     .     .     .     NS    NF    NS    ok    NS    NF    NF
RoutingCandidate.score          own               .     ok    ok    ok    .     .     .     .     .     .     .
RoutingCandidate.score          other             ok    NF    NF    NF    NF    NF    NF    NF    NF    NF    NF
RoutingCandidate.score          shared            .     .     .     .     NS    NF    NS    ok    NS    NF    NF
RoutingCandidate.components     own               .     ok    ok    ok    .     .     .     .     .     .     .
RoutingCandidate.components     other             ok    NF    NF    NF    NF    NF    NF    NF    NF    NF    NF
RoutingCandidate.components     shared            .     .     .     .     NS    NF    NS    ok    NS    NF    NF

# ---- mutations
Mutation.createOrder            own               F     ok    ok    F     F     F     F     F     F     F     F
Mutation.cancelOrder            own               .     ok    ok    F     .     .     .     .     .     .     .
Mutation.cancelOrder            own_delivered     .     IS    IS    F     .     .     .     .     .     .     .
Mutation.cancelOrder            other             F     NF    NF    F     F     F     F     F     F     F     F
Mutation.cancelOrder            shared            .     .     .     .     F     F     F     F     F     F     F
Mutation.updateFulfillment      own               .     ok    ok    F     .     .     .     .     .     .     .
Mutation.updateFulfillment      own_delivered     .     IS    IS    F     .     .     .     .     .     .     .
Mutation.updateFulfillment      other             F     NF    NF    F     NF    NF    NF    NF    NF    NF    NF
Mutation.updateFulfillment      shared            .     .     .     .     ok    NF    ok    ok    R     NF    NF
Mutation.updateFulfillment      shared_delivered  .     .     .     .     IS    NF    IS    IS    R     NF    NF
Mutation.grantOrderAccess       own               IN    ok    F     F     F     F     F     F     F     F     F
Mutation.createTenant           new               ok    F     F     F     F     F     F     F     F     F     F
Mutation.updateTenant           own               ok    F     F     F     F     F     F     F     F     F     F
Mutation.updateTenant           other             ok    F     F     F     F     F     F     F     F     F     F
Mutation.createApiClient        own               ok    ok    F     F     ok    F     F     F     F     F     F
Mutation.createApiClient        other             ok    NF    F     F     NF    F     F     F     F     F     F
Mutation.rotateApiClientSecret  own               ok    ok    F     F     ok    F     F     F     F     F     F
Mutation.rotateApiClientSecret  other             ok    NF    F     F     NF    F     F     F     F     F     F
Mutation.deleteApiClient        own               ok    ok    F     F     ok    F     F     F     F     F     F
Mutation.deleteApiClient        other             ok    NF    F     F     NF    F     F     F     F     F     F
Mutation.setTenantSla           own               ok    F     F     F     F     F     F     F     F     F     F
Mutation.setTenantSla           other             ok    F     F     F     F     F     F     F     F     F     F
Mutation.revokeOrderAccess      own               .     ok    F     F     F     .     F     F     F     F     F
Mutation.revokeOrderAccess      other             ok    NF    F     F     F     F     F     F     F     F     F

# ---- routing (routing:write; setStockLevels: inventory:write) and risk review
Mutation.putFulfillmentNode     new               ok    ok    F     F     ok    F     F     F     F     F     F
Mutation.putFulfillmentNode     own               .     ok    F     F     ok    .     F     F     F     F     F
Mutation.putFulfillmentNode     other             ok    NF    F     F     NF    F     F     F     F     F     F
Mutation.putFulfillmentNode     shared            R     R     F     F     R     F     F     F     F     F     F
Mutation.setStockLevels         own               .     ok    ok    F     ok    .     ok    ok    ok    NF    NF
Mutation.setStockLevels         other             ok    NF    NF    F     NF    NF    NF    NF    NF    NF    NF
Mutation.setStockLevels         shared            R     R     R     F     NF    NF    NF    NF    NF    NF    NF
Mutation.setRoutingProfile      own               IN    ok    F     F     IN    F     F     F     F     F     F
Mutation.setRoutingProfile      other             ok    NF    F     F     NF    F     F     F     F     F     F
Mutation.setRoutingProfile      shared            .     .     .     .     R     F     F     F     F     F     F
Mutation.rerouteOrder           own               .     ok    F     F     .     .     .     .     .     .     .
Mutation.rerouteOrder           own_delivered     .     IS    F     F     .     .     .     .     .     .     .
Mutation.rerouteOrder           other             ok    NF    F     F     NF    F     F     F     F     F     F
Mutation.rerouteOrder           shared            .     .     .     .     R     F     F     F     F     F     F
Mutation.approveOrder           own               .     IS    IS    F     .     .     .     .     .     .     .
Mutation.approveOrder           own_held          .     ok    ok    F     .     .     .     .     .     .     .
Mutation.approveOrder           other             F     NF    NF    F     F     F     F     F     F     F     F
Mutation.approveOrder           shared            .     .     .     .     F     F     F     F     F     F     F
Mutation.rejectOrder            own               .     IS    IS    F     .     .     .     .     .     .     .
Mutation.rejectOrder            own_held          .     ok    ok    F     .     .     .     .     .     .     .
Mutation.rejectOrder            other             F     NF    NF    F     F     F     F     F     F     F     F
Mutation.rejectOrder            shared            .     .     .     .     F     F     F     F     F     F     F
Mutation.setRiskProfile         own               IN    ok    F     F     F     F     F     F     F     F     F
Mutation.setRiskProfile         other             ok    NF    F     F     F     F     F     F     F     F     F
"""


@dataclass(frozen=True)
class Row:
    state: RoleState
    operation: str  # "Query.<field>", "Mutation.<field>" or "<Type>.<shared field>"
    obj: Obj
    expected: Outcome

    @property
    def is_mutation(self) -> bool:
        return self.operation.startswith("Mutation.")


def _parse(table: str) -> tuple[Row, ...]:
    lines = [
        line.split()
        for line in table.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    header, body = lines[0], lines[1:]
    if header[:2] != ["operation", "object"] or any(h not in COLUMNS for h in header[2:]):
        raise ValueError(f"matrix header: {header}")
    states = [COLUMNS[h] for h in header[2:]]
    if sorted(states) != sorted(RoleState):
        raise ValueError("matrix header: every role-state exactly once")
    rows: list[Row] = []
    seen: set[tuple[str, Obj]] = set()
    for cells in body:
        if len(cells) != len(header):
            raise ValueError(f"matrix line {' '.join(cells)!r}: {len(header)} cells expected")
        operation, obj = cells[0], Obj(cells[1])
        if operation.count(".") != 1 or (operation, obj) in seen:
            raise ValueError(f"matrix line {operation} {obj}: malformed or repeated")
        seen.add((operation, obj))
        for state, cell in zip(states, cells[2:], strict=True):
            if cell not in CELLS:
                raise ValueError(f"matrix {operation} {obj} {state}: unknown cell {cell!r}")
            expected = CELLS[cell]
            if expected is not None:
                rows.append(Row(state, operation, obj, expected))
    return tuple(rows)


MATRIX: tuple[Row, ...] = _parse(TABLE)


def rows_for(state: RoleState) -> list[Row]:
    """The role-state's rows, reads before mutations, otherwise in table order."""
    rows = [row for row in MATRIX if row.state is state]
    return sorted(rows, key=lambda row: row.is_mutation)
