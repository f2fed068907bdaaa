"""Risk facts on orders, holds at the merchant's threshold, and the review of held orders."""

from __future__ import annotations

from typing import Any

from tests.conftest import Api
from tests.lifecycle.conftest import (
    SKU,
    customer_order,
    stock_of,
    stocked_node,
    submit_order,
    types,
)
from tests.routing.documents import (
    APPROVE,
    CREATE,
    REJECT,
    SET_RISK_PROFILE,
    create,
    routed_order_input,
)

SIGNALS = [
    "email_velocity_1h",
    "email_velocity_24h",
    "address_velocity_1h",
    "address_velocity_24h",
    "order_value",
    "addresses_per_email",
    "disposable_email",
    "unusual_quantity",
]
SUSPICIOUS_EMAIL = "jane.doe@inbox.mailinator.com"
SUSPICIOUS_PRICE = "123.45"  # two of them: 246.90

RISK_PROFILE = "query { riskProfile { version holdThreshold } }"


def facts(order: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The order's risk facts by signal, after checking every signal is there, in order."""
    listed = order["risk"]["facts"]
    assert [f["signal"] for f in listed] == SIGNALS
    assert order["risk"]["score"] == min(100, sum(f["weight"] for f in listed))
    return {f["signal"]: f for f in listed}


def fact(signal: str, observed: str, weight: int, sentence: str) -> dict[str, Any]:
    return {"signal": signal, "observed": observed, "weight": weight, "sentence": sentence}


async def set_risk_profile(api: Api, **changes: Any) -> dict[str, Any]:
    data = await api.data(SET_RISK_PROFILE, {"input": changes}, as_client="acme-backend")
    payload: dict[str, Any] = data["setRiskProfile"]  # type: ignore[assignment]
    return payload


async def hold_at(api: Api, threshold: int) -> None:
    payload = await set_risk_profile(api, holdThreshold=threshold, mediumThreshold=threshold // 2)
    assert payload["userErrors"] == [], payload
    assert payload["profile"]["holdThreshold"] == threshold


async def suspicious_order(api: Api) -> dict[str, Any]:
    """Two units ordered from a throwaway address: 25 points, nothing else."""
    order_input = routed_order_input([(SKU, 2)], customerEmail=SUSPICIOUS_EMAIL)
    order_input["lines"][0]["unitPrice"] = SUSPICIOUS_PRICE
    return await submit_order(api, order_input, document=CREATE)


async def review(api: Api, mutation: str, document: str, variables: dict[str, Any]) -> Any:
    """The payload of approveOrder or rejectOrder, as the merchant's operator."""
    data = await api.data(document, variables, as_client="acme-shop")
    return data[mutation]


async def approve(api: Api, order_id: str) -> Any:
    return await review(api, "approveOrder", APPROVE, {"id": order_id})


async def reject(api: Api, order_id: str, reason: str) -> Any:
    variables = {"input": {"orderId": order_id, "reason": reason}}
    return await review(api, "rejectOrder", REJECT, variables)


def refused_as_invalid_state(payload: dict[str, Any], status: str) -> None:
    assert payload["order"] is None, payload
    [error] = payload["userErrors"]
    assert error["code"] == "INVALID_STATE", error
    assert status in error["message"]


def assert_discreet(message: str, *, score: int) -> None:
    """The HELD message gives the score, never the customer's email or the order total."""
    assert f"score {score}" in message, message
    for secret in (SUSPICIOUS_EMAIL, "jane.doe", "246.9", "246,9", "24690"):
        assert secret not in message, message


def event(order: dict[str, Any], kind: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [e for e in order["events"] if e["type"] == kind]
    assert len(found) == 1, order["events"]
    return found[0]


async def test_a_fourth_order_within_the_hour_adds_velocity_facts(api: Api) -> None:
    orders = [await create(api, [(SKU, 1)]) for _ in range(4)]
    assert [o["risk"]["score"] for o in orders] == [0, 0, 0, 40]
    fourth = facts(orders[-1])
    assert fourth["email_velocity_1h"] == fact(
        "email_velocity_1h",
        "4 orders in 1 h",
        20,
        "4 orders from this email in the last hour (more than 3 is unusual).",
    )
    assert fourth["address_velocity_1h"] == fact(
        "address_velocity_1h",
        "4 orders in 1 h",
        20,
        "4 orders from this shipping address in the last hour (more than 3 is unusual).",
    )
    assert fourth["email_velocity_24h"]["weight"] == 0
    assert "up to 10 is normal" in fourth["email_velocity_24h"]["sentence"]
    risk = orders[-1]["risk"]
    assert (risk["level"], risk["held"], risk["holdThreshold"]) == ("MEDIUM", False, 70)
    assert all("jane@" not in f["sentence"] + f["observed"] for f in fourth.values())


async def test_a_disposable_email_domain_adds_its_fact(api: Api) -> None:
    order = await create(api, [(SKU, 1)], customerEmail=SUSPICIOUS_EMAIL)
    found = facts(order)
    assert found["disposable_email"] == fact(
        "disposable_email",
        "mailinator.com",
        25,
        "The email uses mailinator.com, a throwaway (disposable) email service.",
    )
    assert (order["risk"]["score"], order["risk"]["level"]) == (25, "LOW")
    # Only the listed domain is named: the subdomain and the name are the customer's.
    assert all("jane.doe" not in f["sentence"] + f["observed"] for f in found.values())
    assert all("inbox." not in f["sentence"] + f["observed"] for f in found.values())


async def test_an_order_over_the_hold_threshold_waits_for_approval(api: Api) -> None:
    await stocked_node(api)
    await hold_at(api, 20)
    order = await suspicious_order(api)
    assert order["status"] == "ON_HOLD", order
    risk = order["risk"]
    assert (risk["score"], risk["level"], risk["held"]) == (25, "HIGH", True)
    assert (risk["holdThreshold"], risk["policyVersion"]) == (20, 1)
    assert types(order) == ["CREATED", "HELD"]
    assert_discreet(event(order, "HELD")["message"], score=25)
    # Held before routing: no decision, nothing reserved.
    assert order["routing"] is None
    assert order["routingHistory"] == []
    assert (await stock_of(api))["reserved"] == 0

    viewer = await api.graphql(APPROVE, {"id": order["id"]}, as_client="acme-reports")
    assert viewer.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    approved = await approve(api, order["id"])
    assert approved["userErrors"] == [], approved
    released = approved["order"]
    assert released["status"] == "ROUTED"
    assert types(released) == ["CREATED", "HELD", "APPROVED", "ROUTED"]
    assert event(released, "APPROVED")["actor"] == "acme/acme-shop"
    assert [d["routed"] for d in released["routingHistory"]] == [True]
    assert released["routing"]["trigger"] == "APPROVED"
    assert (await stock_of(api))["reserved"] == 2

    refused_as_invalid_state(await approve(api, order["id"]), "ROUTED")


async def test_a_rejected_order_is_cancelled_with_the_reason(api: Api) -> None:
    await stocked_node(api)
    await hold_at(api, 20)
    order = await suspicious_order(api)
    rejected = await reject(api, order["id"], "card reported stolen")
    assert rejected["userErrors"] == [], rejected
    cancelled = rejected["order"]
    assert (cancelled["status"], cancelled["cancelReason"]) == ("CANCELLED", "card reported stolen")
    assert types(cancelled) == ["CREATED", "HELD", "REJECTED"]
    assert "card reported stolen" in event(cancelled, "REJECTED")["message"]
    assert cancelled["routingHistory"] == []
    assert (await stock_of(api))["reserved"] == 0
    refused_as_invalid_state(await approve(api, order["id"]), "CANCELLED")

    routed = await customer_order(api, 1)
    assert routed["status"] == "ROUTED"
    refused_as_invalid_state(await reject(api, routed["id"], "no reason"), "ROUTED")


async def test_set_risk_profile_names_the_field_out_of_range(api: Api) -> None:
    for changes, field in (
        ({"holdThreshold": 0, "mediumThreshold": 0}, "holdThreshold"),
        ({"holdThreshold": 101}, "holdThreshold"),
        ({"holdThreshold": 50, "mediumThreshold": 60}, "mediumThreshold"),
    ):
        payload = await set_risk_profile(api, **changes)
        assert payload["profile"] is None, changes
        errors = [(e["field"], e["code"]) for e in payload["userErrors"]]
        assert errors == [(["input", field], "INVALID")], (changes, payload)
    mismatched = await set_risk_profile(api, velocityWindowHours=[1, 24], velocityLimits=[3])
    assert mismatched["profile"] is None
    assert [e["code"] for e in mismatched["userErrors"]] == ["INVALID"]
    # Nothing was stored: the built-in policy is still in force.
    data = await api.data(RISK_PROFILE, as_client="acme-backend")
    assert data["riskProfile"] == {"version": 0, "holdThreshold": 70}


async def test_set_risk_profile_names_every_bad_field_at_once(api: Api) -> None:
    payload = await set_risk_profile(
        api,
        holdThreshold=101,
        velocityWindowHours=[24, 1],
        velocityLimits=[0, 10],
        distinctAddressesLimit=0,
        extraDisposableDomains=["throwaway.example", "localhost"],
    )
    assert payload["profile"] is None
    assert [(e["field"], e["code"], e["message"]) for e in payload["userErrors"]] == [
        (["input", "holdThreshold"], "INVALID", "must be between 1 and 100"),
        (
            ["input", "velocityWindowHours"],
            "INVALID",
            "windows must be whole hours, at least 1, increasing",
        ),
        (["input", "velocityLimits"], "INVALID", "each limit must be at least 1"),
        (["input", "distinctAddressesLimit"], "INVALID", "must be at least 1"),
        (
            ["input", "extraDisposableDomains", "1"],
            "INVALID",
            "'localhost' must have at least two labels, such as example.com",
        ),
    ]
    data = await api.data(RISK_PROFILE, as_client="acme-backend")
    assert data["riskProfile"] == {"version": 0, "holdThreshold": 70}


async def test_set_risk_profile_names_the_field_of_inconsistent_lists(api: Api) -> None:
    for changes, fields in (
        ({"velocityWindowHours": [1, 24], "velocityLimits": [3]}, ("velocityLimits",)),
        ({"velocityWindowHours": [24, 1]}, ("velocityWindowHours",)),
        ({"velocityLimits": [0, 10]}, ("velocityLimits",)),
        ({"distinctAddressesLimit": 0}, ("distinctAddressesLimit",)),
    ):
        payload = await set_risk_profile(api, **changes)
        [error] = payload["userErrors"]
        assert error["field"] in [["input", field] for field in fields], (changes, error)
