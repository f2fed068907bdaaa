"""The schema keeps every name, type and argument of contract.graphql, and schema.graphql
is the committed snapshot of what the code builds."""

from __future__ import annotations

import os
from pathlib import Path

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
)

from oaas.graphql.schema import build_schema as build_oaas_schema
from oaas.settings import Settings

REPO = Path(__file__).resolve().parents[2]
CONTRACT = REPO.parent / "shared" / "docs" / "contract.graphql"
SNAPSHOT = REPO / "schema.graphql"


COPY = Path(__file__).with_name("contract.graphql")


def _contract_path() -> Path:
    """The shared contract beside the checkout when there, else the copy kept here."""
    return CONTRACT if CONTRACT.is_file() else COPY


def test_the_kept_copy_matches_the_shared_contract() -> None:
    if CONTRACT.is_file():
        assert COPY.read_text() == CONTRACT.read_text(), (
            "tests/graphql/contract.graphql differs from ../shared/docs/contract.graphql: copy it"
        )


def _ours() -> GraphQLSchema:
    return build_oaas_schema(Settings(_env_file=None))._schema  # type: ignore[call-arg]


def test_every_contract_name_and_type_is_kept() -> None:
    contract = build_schema(_contract_path().read_text())
    ours = _ours()
    problems: list[str] = []
    for name, contract_type in contract.type_map.items():
        if name.startswith("__"):
            continue
        our_type = ours.type_map.get(name)
        if our_type is None:
            problems.append(f"type {name} is missing")
            continue
        if not isinstance(our_type, type(contract_type)):
            problems.append(
                f"{name} is a {type(our_type).__name__}, not {type(contract_type).__name__}"
            )
            continue
        if isinstance(contract_type, GraphQLEnumType):
            assert isinstance(our_type, GraphQLEnumType)
            missing = set(contract_type.values) - set(our_type.values)
            if missing:
                problems.append(f"enum {name} lacks {sorted(missing)}")
        if isinstance(
            contract_type, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType
        ):
            assert isinstance(
                our_type, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType
            )
            for field_name, field in contract_type.fields.items():
                ours_field = our_type.fields.get(field_name)
                if ours_field is None:
                    problems.append(f"{name}.{field_name} is missing")
                    continue
                if str(ours_field.type) != str(field.type):
                    problems.append(f"{name}.{field_name} is {ours_field.type}, not {field.type}")
                for arg_name, arg in getattr(field, "args", {}).items():
                    ours_arg = ours_field.args.get(arg_name)  # type: ignore[union-attr]
                    if ours_arg is None or str(ours_arg.type) != str(arg.type):
                        problems.append(f"{name}.{field_name}({arg_name}: {arg.type}) differs")
        if isinstance(contract_type, GraphQLObjectType):
            assert isinstance(our_type, GraphQLObjectType)
            contract_interfaces = {i.name for i in contract_type.interfaces}
            our_interfaces = {i.name for i in our_type.interfaces}
            if not contract_interfaces <= our_interfaces:
                problems.append(f"{name} must implement {sorted(contract_interfaces)}")
    assert problems == [], "\n".join(problems)


def test_schema_snapshot_is_current() -> None:
    sdl = build_oaas_schema(Settings(_env_file=None)).as_str() + "\n"  # type: ignore[call-arg]
    if os.environ.get("OAAS_UPDATE_SCHEMA"):
        SNAPSHOT.write_text(sdl)
    assert SNAPSHOT.is_file(), (
        "run OAAS_UPDATE_SCHEMA=1 pytest tests/graphql/test_schema.py to write schema.graphql"
    )
    assert SNAPSHOT.read_text() == sdl, (
        "schema.graphql differs from the schema the code builds: "
        "review the change, then run OAAS_UPDATE_SCHEMA=1 pytest tests/graphql/test_schema.py"
    )
