"""A bad manifest is refused whole: one line per problem naming the file and the path of
the bad value, exit status 2, and the database exactly as it was."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from oaas.manifests.manifest import ManifestError, load_manifests
from tests.manifests.conftest import Cli, snapshot, write_manifest

INLINE_SECRET = "initech-inline-secret-1"
ENV_SECRET = "speedy-env-secret-42"
ENV = {"SPEEDY_SECRET": ENV_SECRET}


def good_manifest() -> dict[str, Any]:
    """Valid, and all new to the demo database: whatever gets written would show."""
    return {
        "tenants": [
            {
                "handle": "initech",
                "name": "Initech",
                "kind": "merchant",
                "clients": [
                    {
                        "client_id": "initech-backend",
                        "secret": INLINE_SECRET,
                        "roles": ["merchant_admin"],
                    },
                ],
            },
            {
                "handle": "speedy",
                "name": "Speedy Couriers",
                "kind": "partner",
                "clients": [
                    {
                        "client_id": "speedy-tms",
                        "secret_env": "SPEEDY_SECRET",
                        "roles": ["partner_operator"],
                    },
                ],
            },
            {
                "handle": "hq",
                "name": "Headquarters",
                "kind": "platform",
                "clients": [
                    {"client_id": "hq-admin", "secret": INLINE_SECRET, "roles": ["platform_admin"]}
                ],
            },
        ],
        "grants": [
            {
                "merchant": "initech",
                "partner": "speedy",
                "profile": "logistics",
                "actions": ["read", "update_fulfillment"],
            }
        ],
    }


Mutation = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Case:
    id: str
    expected: str
    mutate: Mutation | None = None
    # the raw text of demo.yaml, instead of the (mutated) good manifest
    text: str | None = None
    # a second file, extra.yaml, applied together with demo.yaml
    extra: dict[str, Any] | None = None
    env: dict[str, str] = field(default_factory=lambda: dict(ENV))
    # expected is a prefix of the line (YAML parser messages are the parser's own)
    prefix: bool = False


def _set(path: str, value: Any) -> Mutation:
    """Sets `tenants.0.kind`-style paths; `value` DELETE removes the key."""

    def mutate(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if value is DELETE:
            del node[last]
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


DELETE = object()

CLIENT0 = "tenants.0.clients.0"


def _both(*mutations: Mutation) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        for m in mutations:
            m(data)

    return mutate


def _other_tenant(**tenant: Any) -> dict[str, Any]:
    return {"tenants": [{"name": "Other", "kind": "merchant", "clients": [], **tenant}]}


CASES = [
    Case(
        "wrong kind",
        "demo.yaml: tenants[2].kind: must be merchant, partner or platform",
        _set("tenants.2.kind", "galaxy"),
    ),
    Case(
        "bad handle characters",
        "demo.yaml: tenants[0].handle: must be 1 to 63 lowercase letters, digits and '-', "
        "starting and ending with a letter or digit",
        _set("tenants.0.handle", "Init_Tech"),
    ),
    Case(
        "handle ending with a dash",
        "demo.yaml: tenants[0].handle: must be 1 to 63 lowercase letters, digits and '-', "
        "starting and ending with a letter or digit",
        _set("tenants.0.handle", "initech-"),
    ),
    Case(
        "missing name",
        "demo.yaml: tenants[1].name: is required",
        _set("tenants.1.name", DELETE),
    ),
    Case(
        "blank name",
        "demo.yaml: tenants[1].name: must not be blank",
        _set("tenants.1.name", "   "),
    ),
    Case(
        "name not a string",
        "demo.yaml: tenants[1].name: must be a string",
        _set("tenants.1.name", ["Speedy"]),
    ),
    Case(
        "bad status",
        "demo.yaml: tenants[1].status: must be active or suspended",
        _set("tenants.1.status", "paused"),
    ),
    Case(
        "unknown tenant key",
        "demo.yaml: tenants[0].colour: unknown key "
        "(expected one of clients, handle, kind, name, plan, sla, status)",
        _set("tenants.0.colour", "red"),
    ),
    Case(
        "unknown client key",
        "demo.yaml: tenants[0].clients[0].scopes: unknown key "
        "(expected one of client_id, roles, secret, secret_env)",
        _set(f"{CLIENT0}.scopes", ["admin"]),
    ),
    Case(
        "unknown top-level key",
        "demo.yaml: tenant: unknown key (expected one of grants, plans, risk, routing, tenants)",
        _set("tenant", []),
    ),
    Case(
        "client without secret or secret_env",
        "demo.yaml: tenants[0].clients[0].secret_env: is required (or an inline secret)",
        _set(f"{CLIENT0}.secret", DELETE),
    ),
    Case(
        "client with a null secret",
        "demo.yaml: tenants[0].clients[0].secret: must be a string",
        _set(f"{CLIENT0}.secret", None),
    ),
    Case(
        "both secret and secret_env",
        "demo.yaml: tenants[0].clients[0].secret: give secret or secret_env, not both",
        _set(f"{CLIENT0}.secret_env", "SPEEDY_SECRET"),
    ),
    Case(
        "secret_env naming an unset variable",
        "demo.yaml: tenants[1].clients[0].secret_env: "
        "environment variable OAAS_TEST_NO_SUCH_SECRET is not set",
        _set("tenants.1.clients.0.secret_env", "OAAS_TEST_NO_SUCH_SECRET"),
    ),
    Case(
        "too-short inline secret",
        "demo.yaml: tenants[0].clients[0].secret: secret must be at least 12 characters",
        _set(f"{CLIENT0}.secret", "short"),
    ),
    Case(
        "too-short secret from the environment",
        "demo.yaml: tenants[1].clients[0].secret_env: secret must be at least 12 characters",
        env={"SPEEDY_SECRET": "tiny"},
    ),
    Case(
        "bad client_id",
        "demo.yaml: tenants[0].clients[0].client_id: must be 2 to 100 letters, digits, "
        "'.', '_' or '-', starting with a letter or digit",
        _set(f"{CLIENT0}.client_id", "initech backend"),
    ),
    Case(
        "role not of the tenant's kind",
        "demo.yaml: tenants[0].clients[0].roles[0]: 'partner_operator' is not a role of a "
        "merchant tenant (one of merchant_admin, merchant_operator, merchant_viewer)",
        _set(f"{CLIENT0}.roles", ["partner_operator"]),
    ),
    Case(
        "unknown role",
        "demo.yaml: tenants[2].clients[0].roles[1]: 'superuser' is not a role of a "
        "platform tenant (one of platform_admin)",
        _set("tenants.2.clients.0.roles", ["platform_admin", "superuser"]),
    ),
    Case(
        "empty roles",
        "demo.yaml: tenants[0].clients[0].roles: must not be empty",
        _set(f"{CLIENT0}.roles", []),
    ),
    Case(
        "roles not a list",
        "demo.yaml: tenants[0].clients[0].roles: must be a list of strings",
        _set(f"{CLIENT0}.roles", "merchant_admin"),
    ),
    Case(
        "duplicate handle across two files",
        "extra.yaml: tenants[0].handle: 'speedy' is also declared at demo.yaml: tenants[1]",
        extra=_other_tenant(handle="speedy"),
    ),
    Case(
        "duplicate client_id across two files",
        "extra.yaml: tenants[0].clients[0].client_id: 'initech-backend' is also declared at "
        "demo.yaml: tenants[0].clients[0]",
        extra=_other_tenant(
            handle="other",
            clients=[
                {
                    "client_id": "initech-backend",
                    "secret": INLINE_SECRET,
                    "roles": ["merchant_viewer"],
                }
            ],
        ),
    ),
    Case(
        "duplicate client_id in one file",
        "demo.yaml: tenants[2].clients[0].client_id: 'initech-backend' is also declared at "
        "demo.yaml: tenants[0].clients[0]",
        _set("tenants.2.clients.0.client_id", "initech-backend"),
    ),
    Case(
        "duplicate grant",
        "demo.yaml: grants[1]: a grant from initech to speedy is also declared at "
        "demo.yaml: grants[0]",
        lambda data: data["grants"].append(dict(data["grants"][0], profile="full")),
    ),
    Case(
        "grant with a bad profile",
        "demo.yaml: grants[0].profile: must be full or logistics",
        _set("grants.0.profile", "everything"),
    ),
    Case(
        "grant with an unknown action",
        "demo.yaml: grants[0].actions[1]: must be read or update_fulfillment",
        _set("grants.0.actions", ["read", "delete"]),
    ),
    Case(
        "grant actions without read",
        "demo.yaml: grants[0].actions: must include read: a partner acts only on orders it can see",
        _set("grants.0.actions", ["update_fulfillment"]),
    ),
    Case(
        "grant missing its partner",
        "demo.yaml: grants[0].partner: is required",
        _set("grants.0.partner", DELETE),
    ),
    Case(
        "invalid YAML",
        "demo.yaml: line 3: not valid YAML (",
        text="tenants:\n  - handle: acme\n   name: [Acme\n",
        prefix=True,
    ),
    Case(
        "a key given twice",
        "demo.yaml: line 7: not valid YAML (found duplicate key 'clients')",
        text=(
            "tenants:\n  - handle: solo\n    name: Solo\n    kind: merchant\n"
            "    clients:\n      - {client_id: solo-1, secret: solo-secret-123, roles: [merchant_admin]}\n"
            "    clients: []\n"
        ),
    ),
    Case("empty file", "demo.yaml: is empty", text=""),
    Case("only a comment", "demo.yaml: is empty", text="# nothing here yet\n"),
    Case("not a mapping", "demo.yaml: must be a mapping", text="- handle: acme\n"),
    Case("tenants not a list", "demo.yaml: tenants: must be a list", text="tenants: acme\n"),
    Case(
        "tenant not a mapping",
        "demo.yaml: tenants[1]: must be a mapping",
        _set("tenants.1", "speedy"),
    ),
    Case("grants not a list", "demo.yaml: grants: must be a list", _set("grants", {"a": 1})),
    Case(
        "clients not a list",
        "demo.yaml: tenants[2].clients: must be a list",
        _set("tenants.2.clients", "hq-admin"),
    ),
    # found only when applying, against what the database holds
    Case(
        "grant naming a non-existent tenant",
        "demo.yaml: grants[0].partner: no tenant 'nobody'",
        _set("grants.0.partner", "nobody"),
    ),
    Case(
        "grant from a tenant that is not a merchant",
        "demo.yaml: grants[0]: speedy is not a merchant",
        _both(_set("grants.0.merchant", "speedy"), _set("grants.0.partner", "swiftship")),
    ),
    Case(
        "grant to a tenant that is not a partner",
        "demo.yaml: grants[0]: acme is not a partner",
        _set("grants.0.partner", "acme"),
    ),
    Case(
        "client_id of another tenant's client",
        "demo.yaml: tenants[0].clients[0].client_id: 'acme-backend' belongs to another tenant",
        _set(f"{CLIENT0}.client_id", "acme-backend"),
    ),
    Case(
        "kind of an existing tenant changed",
        "demo.yaml: tenants[2].kind: swiftship is a partner; a tenant's kind cannot change",
        _both(
            _set("tenants.2.handle", "swiftship"),
            _set("tenants.2.kind", "platform"),
        ),
    ),
]


def _write_case(case: Case, folder: Path) -> list[Path]:
    main = folder / "demo.yaml"
    if case.text is not None:
        main.write_text(case.text, encoding="utf-8")
    else:
        data = good_manifest()
        if case.mutate is not None:
            case.mutate(data)
        write_manifest(main, data)
    files = [main]
    if case.extra is not None:
        files.append(write_manifest(folder / "extra.yaml", case.extra))
    return files


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
async def test_bad_manifest_is_refused_whole(
    case: Case, database_url: str, workdir: Path, tmp_path: Path
) -> None:
    files = _write_case(case, tmp_path)
    cli = Cli(database_url, workdir, env=case.env)
    before = await snapshot(database_url)

    result = await cli.call("tenants", "apply", *files)

    assert result.code == 2, result
    assert result.out == ""
    assert len(result.err_lines) == 1, result.err
    if case.prefix:
        assert result.err_lines[0].startswith(case.expected), result.err
    else:
        assert result.err_lines[0] == case.expected
    assert await snapshot(database_url) == before


async def test_the_example_from_the_issue_over_a_real_process(
    database_url: str, workdir: Path, tmp_path: Path
) -> None:
    data = good_manifest()
    data["tenants"][2]["kind"] = "galaxy"
    manifest = write_manifest(tmp_path / "demo.yaml", data)
    before = await snapshot(database_url)

    result = await Cli(database_url, workdir, env=ENV).run("tenants", "apply", manifest)

    assert (result.code, result.out) == (2, ""), result
    assert result.err == "demo.yaml: tenants[2].kind: must be merchant, partner or platform\n"
    assert await snapshot(database_url) == before


async def test_a_problem_found_while_applying_the_second_file_writes_nothing_of_the_first(
    database_url: str, workdir: Path, tmp_path: Path
) -> None:
    first = write_manifest(tmp_path / "a.yaml", good_manifest())
    second = write_manifest(
        tmp_path / "b.yaml",
        {
            "grants": [
                {
                    "merchant": "initech",
                    "partner": "ghost",
                    "profile": "full",
                    "actions": ["read"],
                }
            ]
        },
    )
    before = await snapshot(database_url)

    result = await Cli(database_url, workdir, env=ENV).run("tenants", "apply", first, second)

    assert (result.code, result.out) == (2, ""), result
    assert result.err == "b.yaml: grants[0].partner: no tenant 'ghost'\n"
    assert await snapshot(database_url) == before


async def test_dry_run_of_a_bad_manifest_fails_the_same_way(
    database_url: str, workdir: Path, tmp_path: Path
) -> None:
    data = good_manifest()
    data["grants"][0]["merchant"] = "nobody"
    manifest = write_manifest(tmp_path / "demo.yaml", data)
    before = await snapshot(database_url)

    result = await Cli(database_url, workdir, env=ENV).call(
        "tenants", "apply", "--dry-run", manifest
    )

    assert (result.code, result.out) == (2, ""), result
    assert result.err_lines == ["demo.yaml: grants[0].merchant: no tenant 'nobody'"]
    assert await snapshot(database_url) == before


# --- load_manifests directly ------------------------------------------------------


def test_every_problem_in_every_file_is_reported_at_once(tmp_path: Path) -> None:
    data = good_manifest()
    data["tenants"][0]["kind"] = "shop"
    data["tenants"][1]["clients"][0]["roles"] = []
    data["grants"][0]["profile"] = "some"
    first = write_manifest(tmp_path / "one.yaml", data)
    second = tmp_path / "two.yaml"
    second.write_text("tenants: {}\n", encoding="utf-8")

    with pytest.raises(ManifestError) as caught:
        load_manifests([first, second], environ=ENV)

    assert caught.value.problems == [
        "one.yaml: tenants[0].kind: must be merchant, partner or platform",
        "one.yaml: tenants[1].clients[0].roles: must not be empty",
        "one.yaml: grants[0].profile: must be full or logistics",
        "two.yaml: tenants: must be a list",
    ]


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    with pytest.raises(ManifestError) as caught:
        load_manifests([missing], environ={})
    assert caught.value.problems == [f"{missing}: cannot read: No such file or directory"]


def test_a_good_manifest_loads_with_the_secret_from_the_environment(tmp_path: Path) -> None:
    manifest = load_manifests([write_manifest(tmp_path / "demo.yaml", good_manifest())], ENV)

    assert [t.handle for t in manifest.tenants] == ["initech", "speedy", "hq"]
    speedy = manifest.tenants[1]
    assert speedy.status == "active"
    assert [(c.client_id, c.secret, c.roles) for c in speedy.clients] == [
        ("speedy-tms", ENV_SECRET, ("partner_operator",))
    ]
    assert [(g.merchant, g.partner, g.profile, g.actions) for g in manifest.grants] == [
        ("initech", "speedy", "logistics", ("read", "update_fulfillment"))
    ]


def test_roles_and_actions_are_deduplicated(tmp_path: Path) -> None:
    data = good_manifest()
    data["tenants"][0]["clients"][0]["roles"] = ["merchant_viewer", "merchant_admin"] * 2
    data["grants"][0]["actions"] = ["update_fulfillment", "read", "read"]
    manifest = load_manifests([write_manifest(tmp_path / "demo.yaml", data)], ENV)

    assert manifest.tenants[0].clients[0].roles == ("merchant_admin", "merchant_viewer")
    assert manifest.grants[0].actions == ("read", "update_fulfillment")
