"""A problem's path, as a manifest and the API name it: the same data, two spellings."""

from __future__ import annotations

from pathlib import Path

from oaas.errors import Key, Problem, dotted_path
from tests.manifests.test_fulfilment_sections import edited, load_problems


def test_a_manifest_path_is_dotted_snake_case_with_keys_as_given() -> None:
    path = ("routing", 0, "nodes", 1, "regionRates", Key("DE-BY"))
    assert dotted_path(path) == "routing[0].nodes[1].region_rates.DE-BY"
    assert dotted_path(("tenants", 0, "sla", "latencyP95Ms", Key("createOrder"))) == (
        "tenants[0].sla.latency_p95_ms.createOrder"
    )
    assert dotted_path(()) == ""


def test_the_api_names_a_path_by_its_fields_and_cuts_a_long_key() -> None:
    long_key = "X" * 1000
    error = Problem(
        ("input", "regionRates", Key(long_key)), "must be between 0 and 1000000"
    ).error()
    assert error.field == ("input", "regionRates", "X" * 40 + "...")
    assert error.message == "must be between 0 and 1000000"
    labelled = Problem(("input", "lines", 2, "sku"), "is blank", label_from=1).error()
    assert (labelled.field, labelled.message) == (
        ("input", "lines", "2", "sku"),
        "lines.2.sku: is blank",
    )


def test_every_problem_of_a_risk_entry_is_named_at_once(tmp_path: Path) -> None:
    problems = load_problems(
        tmp_path,
        edited(
            ("risk.0.hold_threshold", 0),
            ("risk.0.distinct_addresses_limit", 0),
            ("risk.0.extra_disposable_domains", ["throwaway.example", "localhost"]),
        ),
    )
    assert problems == [
        "x.yaml: risk[0].hold_threshold: must be between 1 and 100",
        "x.yaml: risk[0].distinct_addresses_limit: must be at least 1",
        "x.yaml: risk[0].extra_disposable_domains[1]: "
        "'localhost' must have at least two labels, such as example.com",
    ]
