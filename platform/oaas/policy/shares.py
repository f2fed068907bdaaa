"""Share profiles: what a partner sees of a merchant's orders, from the Casbin policy.

Grants (who shares with whom, under which profile, with which actions) are
data in SQL; `share_model.conf` and `share_policy.csv` say what a profile
shows and what a grant action allows. The vocabulary below is every question
the readers ask (API fields, order events, routing decisions): the policy
must answer each one for each profile, exactly once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from functools import cache
from pathlib import Path

import casbin

from oaas.policy.enforcer import Action, PolicyError, policies_dir

MODEL_FILE, POLICY_FILE = "share_model.conf", "share_policy.csv"


class ShareProfile(StrEnum):
    FULL = "full"
    LOGISTICS = "logistics"


class ShareAction(StrEnum):
    READ = "read"
    UPDATE_FULFILLMENT = "update_fulfillment"


class ShareKind(StrEnum):
    FIELD = "field"
    EVENT = "event"
    DECISION = "decision"


class View(StrEnum):
    """How an item is shown: as the merchant sees it, rendered for partners, or not at all."""

    SHOW = "show"
    REDACT = "redact"
    HIDE = "hide"


class SharedField(StrEnum):
    """API fields a profile may hide (null plus FIELD_NOT_SHARED)."""

    ORDER_TOTAL = "Order.total"
    ORDER_CUSTOMER_EMAIL = "Order.customerEmail"
    LINE_UNIT_PRICE = "OrderLine.unitPrice"
    ORDER_RISK = "Order.risk"
    CANDIDATE_TRANSPORT_COST = "RoutingCandidate.transportCost"
    CANDIDATE_SCORE = "RoutingCandidate.score"
    CANDIDATE_COMPONENTS = "RoutingCandidate.components"


class DecisionPart(StrEnum):
    """Parts of a routing decision a profile may leave out or retell."""

    OTHER_CANDIDATES = "candidates.others"  # candidates at nodes the partner does not operate
    OTHER_ASSIGNMENTS = "assignments.others"  # assignments to such nodes
    EXPLANATION = "explanation"  # the merchant's sentence, or one built for the partner


# Every order event type (oaas.orders.events.EventType; a test keeps the two equal).
EVENT_TYPES = (
    "CREATED",
    "CANCELLED",
    "LINES_CANCELLED",
    "FULFILLMENT_UPDATED",
    "ROUTED",
    "REROUTED",
    "ROUTING_PENDING",
    "ROUTING_DEFERRED",
    "HELD",
    "APPROVED",
    "REJECTED",
)

_FIELD_VIEWS = (View.SHOW, View.HIDE)
_EVENT_VIEWS = (View.SHOW, View.REDACT, View.HIDE)

# kind -> item -> the views the policy may choose, least to most restrictive.
VOCABULARY: Mapping[ShareKind, Mapping[str, tuple[View, ...]]] = {
    ShareKind.FIELD: {str(f): _FIELD_VIEWS for f in SharedField},
    ShareKind.EVENT: dict.fromkeys(EVENT_TYPES, _EVENT_VIEWS),
    ShareKind.DECISION: {
        DecisionPart.OTHER_CANDIDATES: (View.SHOW, View.HIDE),
        DecisionPart.OTHER_ASSIGNMENTS: (View.SHOW, View.HIDE),
        DecisionPart.EXPLANATION: (View.SHOW, View.REDACT),
    },
}


def strictest(kind: ShareKind, item: str) -> View:
    """The view for a reader no profile covers (a partner whose grant just ended)."""
    views = VOCABULARY[kind].get(item)
    return views[-1] if views else View.HIDE


class SharePolicy:
    """Answers from `share_model.conf` and `share_policy.csv`, checked against the
    vocabulary when loaded and memoised: an answer never changes while the process runs."""

    def __init__(self, directory: Path | None = None) -> None:
        directory = directory or policies_dir()
        model, policy = directory / MODEL_FILE, directory / POLICY_FILE
        for path in (model, policy):
            if not path.is_file():
                raise PolicyError(f"{path}: missing")
        try:
            self._enforcer = casbin.Enforcer(str(model), str(policy))
        except Exception as exc:
            raise PolicyError(f"{directory}: {exc}") from exc
        self._views: dict[tuple[str, str, str], View] = {}
        self._allowed: dict[tuple[str, str], bool] = {}
        self.check()

    def check(self) -> None:
        """Every line is in the vocabulary, none repeats a question, every question has a line."""
        answered: set[tuple[str, str, str]] = set()
        for line in self._enforcer.get_named_policy("p"):
            if len(line) != 4:
                raise PolicyError(f"{POLICY_FILE}: a p line has four values: {', '.join(line)}")
            profile, kind, item, view = line
            _known(profile, (p.value for p in ShareProfile), "share profile")
            _known(kind, (k.value for k in ShareKind), "kind", f" for profile {profile!r}")
            views = VOCABULARY[ShareKind(kind)].get(item)
            if views is None:
                raise PolicyError(f"{POLICY_FILE}: unknown {kind} {item!r} for profile {profile!r}")
            if view not in views:
                allowed = " or ".join(views)
                raise PolicyError(
                    f"{POLICY_FILE}: {kind} {item} of profile {profile!r} is {allowed}, "
                    f"not {view!r}"
                )
            if (profile, kind, item) in answered:
                raise PolicyError(f"{POLICY_FILE}: {kind} {item} of profile {profile!r} twice")
            answered.add((profile, kind, item))
        for profile in ShareProfile:
            for kind, items in VOCABULARY.items():
                for item in items:
                    if (profile.value, kind.value, item) not in answered:
                        raise PolicyError(
                            f"{POLICY_FILE}: profile {profile.value!r} has no line for "
                            f"{kind.value} {item}"
                        )
        granted: set[tuple[str, str]] = set()
        for line in self._enforcer.get_named_policy("p2"):
            if len(line) != 2:
                raise PolicyError(f"{POLICY_FILE}: a p2 line has two values: {', '.join(line)}")
            grant_action, action = line
            _known(grant_action, (a.value for a in ShareAction), "grant action")
            _known(
                action, (a.value for a in Action), "action", f" for grant action {grant_action!r}"
            )
            if (grant_action, action) in granted:
                raise PolicyError(f"{POLICY_FILE}: p2, {grant_action}, {action} twice")
            granted.add((grant_action, action))
        if (ShareAction.READ.value, Action.ORDER_READ) not in granted:
            # Row scoping shows a partner the orders of every active grant, and every grant
            # includes read: the policy must say so too.
            raise PolicyError(f"{POLICY_FILE}: grant action 'read' must allow order:read")

    def view(self, profile: ShareProfile, kind: ShareKind, item: str) -> View:
        """How `profile` shows `item` of `kind`; KeyError for an item outside the vocabulary."""
        key = (profile.value, kind.value, item)
        found = self._views.get(key)
        if found is None:
            for candidate in VOCABULARY[kind][item]:
                if self._enforcer.enforce(profile.value, kind.value, item, candidate.value):
                    found = candidate
                    break
            else:  # unreachable once check() passed: every question has a line
                raise KeyError(key)
            self._views[key] = found
        return found

    def grant_allows(self, grant_action: ShareAction, action: Action) -> bool:
        key = (grant_action.value, action)
        decision = self._allowed.get(key)
        if decision is None:
            context = self._enforcer.new_enforce_context("2")
            decision = bool(self._enforcer.enforce(context, grant_action.value, action))
            self._allowed[key] = decision
        return decision

    def lines(self) -> int:
        return len(self._enforcer.get_named_policy("p")) + len(
            self._enforcer.get_named_policy("p2")
        )


def _known(value: str, vocabulary: Iterable[str], what: str, where: str = "") -> None:
    if value not in set(vocabulary):
        raise PolicyError(f"{POLICY_FILE}: unknown {what} {value!r}{where}")


@cache
def default_share_policy() -> SharePolicy:
    return SharePolicy()


def share_view(profile: ShareProfile, kind: ShareKind, item: str) -> View:
    """THE question every reader of shared order data asks: how does this profile show it?"""
    return default_share_policy().view(profile, kind, item)


def grant_allows(actions: Iterable[ShareAction], action: Action) -> bool:
    """Whether a grant with these actions lets its partner take `action` on the merchant's data."""
    policy = default_share_policy()
    return any(policy.grant_allows(grant_action, action) for grant_action in actions)
