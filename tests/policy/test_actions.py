"""The actions: one `Action` enum, which the policy files must spell exactly."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from oaas.policy import ACTION_SCOPES, Action, Policy, PolicyError
from oaas.policy.enforcer import policies_dir


def test_every_action_names_the_token_scope_it_needs() -> None:
    assert list(ACTION_SCOPES) == list(Action)


def test_the_shipped_policy_names_every_action_and_nothing_else() -> None:
    Policy()  # loads, so every line is well formed
    lines = (policies_dir() / "policy.csv").read_text().splitlines()
    named = {line.split(",")[2].strip() for line in lines if line.startswith("p,")}
    assert named == {action.value for action in Action}


def test_an_action_outside_the_enum_is_refused_naming_it(tmp_path: Path) -> None:
    folder = tmp_path / "policies"
    shutil.copytree(policies_dir(), folder)
    path = folder / "policy.csv"
    path.write_text(path.read_text() + "p, merchant_admin, order:reed, own\n")
    with pytest.raises(PolicyError) as raised:
        Policy(folder)
    assert str(raised.value) == "policy.csv: unknown action 'order:reed' for role 'merchant_admin'"
