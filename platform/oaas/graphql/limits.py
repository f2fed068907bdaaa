"""Static limits on a document, checked before anything runs.

Each violation is a GraphQL error with `extensions.code = "QUERY_REJECTED"`
whose message names the limit and the value. Anchors: OWASP's GraphQL cheat
sheet and GraphQL Armor's defaults, loosened a little for real integrations.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    ASTValidationRule,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
)

REJECTED = "QUERY_REJECTED"


@dataclass(frozen=True)
class Limits:
    max_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 5_000
    max_list_items: int = 250
    max_page: int = 100


def rejected(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": REJECTED})


def _depth(
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    seen: frozenset[str] = frozenset(),
) -> int:
    deepest = 0
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            if selection.name.value.startswith("__"):
                continue  # introspection has its own switch
            below = _depth(selection.selection_set, fragments, seen)
            deepest = max(deepest, 1 + below)
        elif isinstance(selection, InlineFragmentNode):
            deepest = max(deepest, _depth(selection.selection_set, fragments, seen))
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:
                deepest = max(deepest, _depth(fragment.selection_set, fragments, seen | {name}))
    return deepest


def _aliases(
    selection_set: SelectionSetNode | None,
    fragments: Mapping[str, FragmentDefinitionNode],
    seen: frozenset[str] = frozenset(),
) -> int:
    count = 0
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            count += (1 if selection.alias else 0) + _aliases(
                selection.selection_set, fragments, seen
            )
        elif isinstance(selection, InlineFragmentNode):
            count += _aliases(selection.selection_set, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:
                count += _aliases(fragment.selection_set, fragments, seen | {name})
    return count


def limits_rule(limits: Limits) -> type[ASTValidationRule]:
    class QueryLimits(ASTValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.fragments = {
                d.name.value: d
                for d in context.document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }

        def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> None:
            depth = _depth(node.selection_set, self.fragments)
            if depth > limits.max_depth:
                self.report_error(
                    rejected(f"query depth is {depth}; the limit is {limits.max_depth}")
                )
            aliases = _aliases(node.selection_set, self.fragments)
            if aliases > limits.max_aliases:
                self.report_error(
                    rejected(f"the query uses {aliases} aliases; the limit is {limits.max_aliases}")
                )

        def enter_list_value(self, node: ListValueNode, *_args: Any) -> None:
            if len(node.values) > limits.max_list_items:
                self.report_error(
                    rejected(
                        f"an input list has {len(node.values)} items; the limit is {limits.max_list_items}"
                    )
                )

    return QueryLimits


def oversized_lists(value: Any, limit: int) -> Iterator[str]:
    """Paths of lists in the variables longer than the limit (iterative: any depth is safe)."""
    stack: list[tuple[Any, str]] = [(value, "variables")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, list):
            if len(item) > limit:
                yield f"{path} has {len(item)} items"
                continue
            stack.extend((child, f"{path}[{index}]") for index, child in enumerate(item))
        elif isinstance(item, dict):
            stack.extend((child, f"{path}.{key}") for key, child in item.items())


def tag_limit_errors(errors: list[GraphQLError]) -> None:
    """The parser's token limit (strawberry's MaxTokensLimiter) as a QUERY_REJECTED error."""
    for error in errors:
        if "Document contains more than" in error.message:
            error.extensions = {**(error.extensions or {}), "code": REJECTED}
