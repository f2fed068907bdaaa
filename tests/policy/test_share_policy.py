"""The share policy (policies/share_model.conf, share_policy.csv): complete, checked,
and the only source of what a profile shows."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from graphql import GraphQLObjectType

from oaas.graphql.schema import build_schema
from oaas.lifecycle.event_views import _PARTNER_MESSAGES
from oaas.orders.events import EventType
from oaas.policy import PolicyError
from oaas.policy.enforcer import policies_dir
from oaas.policy.shares import (
    EVENT_TYPES,
    VOCABULARY,
    ShareAction,
    SharedField,
    ShareKind,
    SharePolicy,
    ShareProfile,
    View,
    default_share_policy,
)
from oaas.settings import Settings


def test_the_shipped_policy_answers_every_question_of_every_profile() -> None:
    policy = SharePolicy()
    for profile in ShareProfile:
        for kind, items in VOCABULARY.items():
            for item, views in items.items():
                assert policy.view(profile, kind, item) in views


def test_full_shows_everything_and_logistics_no_money_risk_or_other_nodes() -> None:
    policy = default_share_policy()
    for kind, items in VOCABULARY.items():
        for item in items:
            assert policy.view(ShareProfile.FULL, kind, item) is View.SHOW
    logistics = {
        (kind, item): policy.view(ShareProfile.LOGISTICS, kind, item)
        for kind, items in VOCABULARY.items()
        for item in items
    }
    assert {item for (kind, item), view in logistics.items() if kind is ShareKind.FIELD} == {
        str(field) for field in SharedField
    }
    assert all(view is View.HIDE for (kind, _), view in logistics.items() if kind == "field")
    assert logistics[(ShareKind.EVENT, "HELD")] is View.REDACT
    assert logistics[(ShareKind.DECISION, "candidates.others")] is View.HIDE
    assert logistics[(ShareKind.DECISION, "explanation")] is View.REDACT


def test_every_event_type_is_in_the_vocabulary_and_has_a_partner_message() -> None:
    types = {value for name, value in vars(EventType).items() if name.isupper()}
    assert types == set(EVENT_TYPES)
    assert set(_PARTNER_MESSAGES) == types


def test_every_field_a_profile_hides_is_a_field_of_the_schema_that_says_so() -> None:
    schema = build_schema(Settings(_env_file=None))._schema
    for field in SharedField:
        type_name, _, name = field.value.partition(".")
        graphql_type = schema.type_map[type_name]
        assert isinstance(graphql_type, GraphQLObjectType)
        description = graphql_type.fields[name].description or ""
        assert "LOGISTICS share profile" in description, field


def test_grant_actions_come_from_the_policy() -> None:
    policy = default_share_policy()
    assert policy.grant_allows(ShareAction.READ, "order:read")
    assert not policy.grant_allows(ShareAction.READ, "fulfillment:update")
    assert policy.grant_allows(ShareAction.UPDATE_FULFILLMENT, "fulfillment:update")
    assert not policy.grant_allows(ShareAction.UPDATE_FULFILLMENT, "order:cancel")


def test_a_decision_is_memoised_and_names_no_tenant() -> None:
    """Decisions cost a dictionary look-up once made, and no line names a tenant, so
    the answer is the same at any tenant count (ops/bench/policy.py measures it)."""
    policy = SharePolicy()
    policy.view(ShareProfile.LOGISTICS, ShareKind.EVENT, "HELD")
    policy._enforcer = None  # a second ask must not reach Casbin
    assert policy.view(ShareProfile.LOGISTICS, ShareKind.EVENT, "HELD") is View.REDACT
    text = (policies_dir() / "share_policy.csv").read_text()
    for handle in ("acme", "globex", "swiftship", "ops"):
        assert handle not in text


BROKEN: dict[str, tuple[str, str | None, str]] = {
    # name: (line to add, line to remove, the error)
    "unknown profile": (
        "p, premium, field, Order.total, show",
        None,
        "share_policy.csv: unknown share profile 'premium'",
    ),
    "unknown kind": (
        "p, full, webhook, Order.total, show",
        None,
        "share_policy.csv: unknown kind 'webhook' for profile 'full'",
    ),
    "unknown field": (
        "p, full, field, Order.margin, show",
        None,
        "share_policy.csv: unknown field 'Order.margin' for profile 'full'",
    ),
    "unknown event type": (
        "p, logistics, event, EXPLODED, hide",
        None,
        "share_policy.csv: unknown event 'EXPLODED' for profile 'logistics'",
    ),
    "unknown decision part": (
        "p, logistics, decision, candidates.mine, show",
        None,
        "share_policy.csv: unknown decision 'candidates.mine' for profile 'logistics'",
    ),
    "redacting a field": (
        "p, logistics, field, Order.total, redact",
        "p, logistics, field, Order.total, hide",
        "share_policy.csv: field Order.total of profile 'logistics' is show or hide, not 'redact'",
    ),
    "a duplicate": (
        "p, logistics, event, HELD, show",
        None,
        "share_policy.csv: event HELD of profile 'logistics' twice",
    ),
    "a missing line": (
        "",
        "p, logistics, event, HELD, redact",
        "share_policy.csv: profile 'logistics' has no line for event HELD",
    ),
    "unknown grant action": (
        "p2, cancel, order:cancel",
        None,
        "share_policy.csv: unknown grant action 'cancel'",
    ),
    "unknown action": (
        "p2, read, order:explode",
        None,
        "share_policy.csv: unknown action 'order:explode' for grant action 'read'",
    ),
    "read without order:read": (
        "",
        "p2, read, order:read",
        "share_policy.csv: grant action 'read' must allow order:read",
    ),
}


@pytest.mark.parametrize(("add", "remove", "error"), BROKEN.values(), ids=BROKEN.keys())
def test_a_broken_share_policy_is_refused_naming_the_line(
    tmp_path: Path, add: str, remove: str | None, error: str
) -> None:
    folder = tmp_path / "policies"
    shutil.copytree(policies_dir(), folder)
    path = folder / "share_policy.csv"
    lines = path.read_text().splitlines()
    if remove is not None:
        assert remove in lines
        lines.remove(remove)
    path.write_text("\n".join([*lines, add]) + "\n")
    with pytest.raises(PolicyError) as raised:
        SharePolicy(folder)
    assert str(raised.value) == error
