"""Tenants manifests: read, validated whole, every problem named by file and path.

A manifest is checked completely before anything is applied; one bad value in
any file means nothing is written.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from oaas.errors import Key, Problems, dotted_path
from oaas.manifests.fulfilment import RiskSpec, RoutingSpec, read_risk, read_routing
from oaas.policy import TenantKind, default_policy
from oaas.quotas.plans import PlanLimits
from oaas.quotas.service import check_plan
from oaas.sharing.models import ShareAction, ShareProfile
from oaas.sla.definitions import Sla, check_sla
from oaas.tenancy.models import TenantStatus
from oaas.tenancy.secrets import MIN_SECRET_LENGTH
from oaas.tenancy.validation import client_id_problem, handle_problem, name_problem


@dataclass(frozen=True)
class ClientSpec:
    client_id: str
    secret: str
    roles: tuple[str, ...]
    origin: str


@dataclass(frozen=True)
class TenantSpec:
    handle: str
    name: str
    kind: TenantKind
    status: TenantStatus
    clients: tuple[ClientSpec, ...]
    origin: str
    sla: Sla | None = None  # None: the manifest says nothing about the tenant's SLA
    plan: str | None = None  # None: the manifest says nothing about the tenant's plan


@dataclass(frozen=True)
class GrantSpec:
    merchant: str
    partner: str
    profile: ShareProfile
    actions: tuple[ShareAction, ...]
    origin: str


@dataclass(frozen=True)
class PlanSpec:
    limits: PlanLimits
    origin: str


@dataclass
class Manifest:
    tenants: list[TenantSpec] = field(default_factory=list)
    grants: list[GrantSpec] = field(default_factory=list)
    plans: list[PlanSpec] = field(default_factory=list)
    routing: list[RoutingSpec] = field(default_factory=list)
    risk: list[RiskSpec] = field(default_factory=list)


class ManifestError(Exception):
    """Every problem found, one `file: path: message` line each."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


class _Reader:
    """Walks one file's data, noting each problem with its path."""

    def __init__(
        self, filename: str, environ: Mapping[str, str], *, inline_secrets: bool = True
    ) -> None:
        self.filename = filename
        self.environ = environ
        self.inline_secrets = inline_secrets
        self.problems = Problems()

    def lines(self) -> list[str]:
        """Each problem as `file: path: message`."""
        found = []
        for problem in self.problems:
            where = dotted_path(problem.path)
            found.append(
                f"{self.filename}: {where}: {problem.message}"
                if where
                else f"{self.filename}: {problem.message}"
            )
        return found

    def origin(self, at: Problems) -> str:
        return f"{self.filename}: {dotted_path(at.prefix)}"

    def mapping(self, value: Any, at: Problems, keys: Iterable[str]) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            at.add((), "must be a mapping")
            return None
        allowed = set(keys)
        for key in value:
            if key not in allowed:
                at.add(
                    (Key(str(key)),),
                    f"unknown key (expected one of {', '.join(sorted(allowed))})",
                )
        return value

    def string(
        self, data: dict[str, Any], key: str, at: Problems, *, required: bool = True
    ) -> str | None:
        value = data.get(key)
        if value is None:
            if required:
                at.add((key,), "is required")
            return None
        if not isinstance(value, str):
            at.add((key,), "must be a string")
            return None
        return value

    def string_list(self, data: dict[str, Any], key: str, at: Problems) -> list[str] | None:
        value = data.get(key)
        if value is None:
            at.add((key,), "is required")
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            at.add((key,), "must be a list of strings")
            return None
        if not value:
            at.add((key,), "must not be empty")
            return None
        return value

    def read(self, document: Any) -> Manifest:
        manifest = Manifest()
        if document is None:
            self.problems.add((), "is empty")
            return manifest
        top = self.mapping(
            document, self.problems, ("tenants", "grants", "plans", "routing", "risk")
        )
        if top is None:
            return manifest
        plans = top.get("plans", [])
        if not isinstance(plans, list):
            self.problems.add(("plans",), "must be a list")
        else:
            for index, item in enumerate(plans):
                at = self.problems.at("plans", index)
                limits = check_plan(item, at)
                if limits is not None:
                    manifest.plans.append(PlanSpec(limits=limits, origin=self.origin(at)))
        tenants = top.get("tenants", [])
        if not isinstance(tenants, list):
            self.problems.add(("tenants",), "must be a list")
        else:
            for index, item in enumerate(tenants):
                spec = self.tenant(item, self.problems.at("tenants", index))
                if spec is not None:
                    manifest.tenants.append(spec)
        readers: tuple[tuple[str, Callable[[Any, Problems, str], Any]], ...] = (
            ("routing", read_routing),
            ("risk", read_risk),
        )
        for key, read in readers:
            entries = top.get(key, [])
            if not isinstance(entries, list):
                self.problems.add((key,), "must be a list")
                continue
            for index, item in enumerate(entries):
                at = self.problems.at(key, index)
                section = read(item, at, self.origin(at))
                if section is not None:
                    getattr(manifest, key).append(section)
        grants = top.get("grants", [])
        if not isinstance(grants, list):
            self.problems.add(("grants",), "must be a list")
        else:
            for index, item in enumerate(grants):
                grant = self.grant(item, self.problems.at("grants", index))
                if grant is not None:
                    manifest.grants.append(grant)
        return manifest

    def tenant(self, item: Any, at: Problems) -> TenantSpec | None:
        data = self.mapping(
            item, at, ("handle", "name", "kind", "status", "clients", "sla", "plan")
        )
        if data is None:
            return None
        before = len(self.problems)
        handle = self.string(data, "handle", at)
        if handle is not None and (problem := handle_problem(handle)):
            at.add(("handle",), problem)
        name = self.string(data, "name", at)
        if name is not None and (problem := name_problem(name)):
            at.add(("name",), problem)
        kind_text = self.string(data, "kind", at)
        kind: TenantKind | None = None
        if kind_text is not None:
            if kind_text not in {k.value for k in TenantKind}:
                at.add(("kind",), "must be merchant, partner or platform")
            else:
                kind = TenantKind(kind_text)
        status_text = self.string(data, "status", at, required=False) or "active"
        if status_text not in {s.value for s in TenantStatus}:
            at.add(("status",), "must be active or suspended")
        clients: list[ClientSpec] = []
        raw_clients = data.get("clients", [])
        if not isinstance(raw_clients, list):
            at.add(("clients",), "must be a list")
        else:
            for index, raw in enumerate(raw_clients):
                client = self.client(raw, at.at("clients", index), kind)
                if client is not None:
                    clients.append(client)
        plan = self.string(data, "plan", at, required=False)
        sla = check_sla(data["sla"], at.at("sla")) if "sla" in data else None
        if len(self.problems) > before or handle is None or name is None or kind is None:
            return None
        return TenantSpec(
            handle=handle,
            name=name,
            kind=kind,
            status=TenantStatus(status_text),
            clients=tuple(clients),
            origin=self.origin(at),
            sla=sla,
            plan=plan,
        )

    def client(self, item: Any, at: Problems, kind: TenantKind | None) -> ClientSpec | None:
        data = self.mapping(item, at, ("client_id", "secret", "secret_env", "roles"))
        if data is None:
            return None
        before = len(self.problems)
        client_id = self.string(data, "client_id", at)
        if client_id is not None and (problem := client_id_problem(client_id)):
            at.add(("client_id",), problem)
        secret = self._secret(data, at)
        roles = self.string_list(data, "roles", at)
        if roles is not None and kind is not None:
            known = default_policy().roles_for_kind(kind)
            for index, role in enumerate(roles):
                if role not in known:
                    at.add(
                        ("roles", index),
                        f"{role!r} is not a role of a {kind} tenant "
                        f"(one of {', '.join(sorted(known))})",
                    )
        if len(self.problems) > before or client_id is None or secret is None or roles is None:
            return None
        return ClientSpec(
            client_id=client_id,
            secret=secret,
            roles=tuple(sorted(set(roles))),
            origin=self.origin(at),
        )

    def _secret(self, data: dict[str, Any], at: Problems) -> str | None:
        before = len(self.problems)
        inline = self.string(data, "secret", at, required=False)
        env_name = self.string(data, "secret_env", at, required=False)
        if inline is not None and env_name is not None:
            at.add(("secret",), "give secret or secret_env, not both")
            return None
        if inline is None and env_name is None:
            if len(self.problems) > before:
                pass  # a value that is not a string, already named
            elif "secret" in data or "secret_env" in data:
                # `secret: ~`: present but null; without a problem the client would vanish
                key = "secret" if "secret" in data else "secret_env"
                at.add((key,), "must be a string")
            else:
                at.add(("secret_env",), "is required (or an inline secret)")
            return None
        if env_name is not None:
            value = self.environ.get(env_name)
            if value is None:
                at.add(("secret_env",), f"environment variable {env_name} is not set")
                return None
            secret, where = value, "secret_env"
        else:
            assert inline is not None
            if not self.inline_secrets:
                # A secret written in a file ends up in version control and backups.
                at.add(
                    ("secret",),
                    "inline secrets are refused in production: name an environment "
                    "variable holding it with secret_env",
                )
                return None
            secret, where = inline, "secret"
        if len(secret) < MIN_SECRET_LENGTH:
            at.add((where,), f"secret must be at least {MIN_SECRET_LENGTH} characters")
            return None
        return secret

    def grant(self, item: Any, at: Problems) -> GrantSpec | None:
        data = self.mapping(item, at, ("merchant", "partner", "profile", "actions"))
        if data is None:
            return None
        before = len(self.problems)
        merchant = self.string(data, "merchant", at)
        partner = self.string(data, "partner", at)
        profile = self.string(data, "profile", at)
        if profile is not None and profile not in {p.value for p in ShareProfile}:
            at.add(("profile",), "must be full or logistics")
        actions = self.string_list(data, "actions", at)
        for index, action in enumerate(actions or []):
            if action not in {a.value for a in ShareAction}:
                at.add(("actions", index), "must be read or update_fulfillment")
        if actions is not None and "read" not in actions and not len(self.problems) > before:
            at.add(("actions",), "must include read: a partner acts only on orders it can see")
        if len(self.problems) > before or None in (merchant, partner, profile, actions):
            return None
        assert merchant
        assert partner
        assert profile
        assert actions
        return GrantSpec(
            merchant=merchant,
            partner=partner,
            profile=ShareProfile(profile),
            actions=tuple(sorted({ShareAction(a) for a in actions})),
            origin=self.origin(at),
        )


class _Loader(yaml.SafeLoader):
    """`yaml.safe_load`, except that a key given twice in one mapping is an error: PyYAML
    would keep the last silently (a second `clients:` would drop the first list)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:
                continue  # unhashable: the base class reports it
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f"found duplicate key {key!r}",
                    key_node.start_mark,
                )
        return super().construct_mapping(node, deep=deep)


def load_manifests(
    paths: Sequence[Path],
    environ: Mapping[str, str] | None = None,
    *,
    inline_secrets: bool = True,
) -> Manifest:
    """All files as one manifest, or a ManifestError listing every problem in all of them.

    `inline_secrets=False` (production) accepts client secrets only through `secret_env`.
    """
    environ = os.environ if environ is None else environ
    merged = Manifest()
    problems: list[str] = []
    for path in paths:
        name = path.name
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            problems.append(f"{path}: cannot read: {exc.strerror or exc}")
            continue
        try:
            document = yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}" if mark is not None else "?"
            problems.append(f"{name}: {where}: not valid YAML ({getattr(exc, 'problem', exc)})")
            continue
        reader = _Reader(name, environ, inline_secrets=inline_secrets)
        manifest = reader.read(document)
        problems.extend(reader.lines())
        merged.tenants.extend(manifest.tenants)
        merged.grants.extend(manifest.grants)
        merged.plans.extend(manifest.plans)
        merged.routing.extend(manifest.routing)
        merged.risk.extend(manifest.risk)
    problems.extend(_cross_file_problems(merged))
    if problems:
        raise ManifestError(problems)
    return merged


def _cross_file_problems(manifest: Manifest) -> list[str]:
    problems: list[str] = []
    handles: dict[str, str] = {}
    client_ids: dict[str, str] = {}
    for tenant in manifest.tenants:
        if tenant.handle in handles:
            problems.append(
                f"{tenant.origin}.handle: {tenant.handle!r} is also declared at {handles[tenant.handle]}"
            )
        handles.setdefault(tenant.handle, tenant.origin)
        for client in tenant.clients:
            if client.client_id in client_ids:
                problems.append(
                    f"{client.origin}.client_id: {client.client_id!r} is also declared at {client_ids[client.client_id]}"
                )
            client_ids.setdefault(client.client_id, client.origin)
    pairs: dict[tuple[str, str], str] = {}
    for grant in manifest.grants:
        key = (grant.merchant, grant.partner)
        if key in pairs:
            problems.append(
                f"{grant.origin}: a grant from {grant.merchant} to {grant.partner} is also declared at {pairs[key]}"
            )
        pairs.setdefault(key, grant.origin)
    return problems
