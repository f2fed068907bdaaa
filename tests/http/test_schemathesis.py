"""Fuzzing: every query and mutation, with Hypothesis-generated inputs, through the
real ASGI app, as a merchant and as a partner.

Fails on any 5xx, any INTERNAL_ERROR, and any response that does not conform to
the schema (schemathesis' checks). `OAAS_FUZZ_EXAMPLES` sets the examples per
operation and caller: small for `make test`, large for `make fuzz`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes
from schemathesis.python import asgi
from starlette.applications import Starlette

from oaas.app import create_app
from oaas.settings import Settings
from tests.conftest import DEMO_SECRET

EXAMPLES = int(os.environ.get("OAAS_FUZZ_EXAMPLES", "15"))
# The operators the issue names, and the admins, who reach the operations
# (tenants, API clients, grants, SLAs) that are FORBIDDEN to the operators.
CALLERS = {
    "merchant": "acme-shop",
    "partner": "swiftship-tms",
    "merchant-admin": "acme-backend",
    "platform-admin": "ops-admin",
}

_DECIMALS = st.decimals(
    min_value=Decimal("-1000000"),
    max_value=Decimal("1000000"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)
_DATETIMES = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
schemathesis.graphql.scalar("Decimal", _DECIMALS.map(lambda d: nodes.String(str(d))))
schemathesis.graphql.scalar(
    "DateTime", _DATETIMES.map(lambda d: nodes.String(d.isoformat().replace("+00:00", "Z")))
)
schemathesis.graphql.scalar(
    "JSON",
    st.one_of(st.integers(-1000, 1000), st.text(max_size=20)).map(
        lambda v: nodes.Int(v) if isinstance(v, int) else nodes.String(v)
    ),
)


@pytest.fixture
def app(settings: Settings) -> Iterator[Starlette]:
    application = create_app(settings)
    yield application
    asgi.shutdown_lifespans()


def _token(app: Starlette, client_id: str) -> str:
    with asgi.get_client(app) as client:
        response = client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id, DEMO_SECRET),
        )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def _no_internal_error(_ctx: Any, response: Any, _case: Any) -> bool | None:
    assert response.status_code < 500, f"{response.status_code}: {response.text[:1000]}"
    assert "INTERNAL_ERROR" not in response.text, response.text[:1000]
    return None


# schemathesis' own `not_a_server_error` and `positive_data_acceptance` count every
# GraphQL error as a failure; here FORBIDDEN, FIELD_NOT_SHARED, NOT_FOUND userErrors
# and the document limits (QUERY_REJECTED) answer as designed. What must never
# happen: a 5xx, an INTERNAL_ERROR, a response the schema does not allow.
CHECKS = [_no_internal_error, schemathesis.checks.response_schema_conformance]


@pytest.mark.parametrize("caller", list(CALLERS))
def test_every_operation_survives_generated_input(app: Starlette, caller: str) -> None:
    headers = {"Authorization": f"Bearer {_token(app, CALLERS[caller])}"}
    schema = schemathesis.graphql.from_asgi("/graphql", app, headers=headers)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 10, operations

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=EXAMPLES <= 10,
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: Any) -> None:
            response = case.call(headers=headers)
            case.validate_response(response, checks=CHECKS)

        try:
            fuzz()
        except Exception as exc:
            exc.add_note(f"operation: {operation.label}, as {caller} ({CALLERS[caller]})")
            raise
