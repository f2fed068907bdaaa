"""Static limits on a document, checked before anything runs.

Each violation is a GraphQL error with `extensions.code = "QUERY_REJECTED"`
whose message names the limit and the value. Anchors: OWASP's GraphQL cheat
sheet and GraphQL Armor's defaults, loosened a little for real integrations.

Depth, aliases and the selections a document expands to are measured with
every fragment's figures computed once (`oaas.graphql.fragments`), so the
check costs time linear in the document whatever its fragments spread.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import graphql.validation.rules.overlapping_fields_can_be_merged as overlapping_fields
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
from graphql.language.parser import MAX_NESTING_DEPTH
from graphql.validation.validate import ValidationAbortedError

from oaas.graphql.fragments import dependency_order, fragments_of

REJECTED = "QUERY_REJECTED"

# Steps graphql-core may spend checking that repeated fields can be merged, in
# pairs, before it aborts validation. Its default (500,000) let 400 repeats of
# `tenant { handle }` run for seconds; the queries of the test suite spend none.
OVERLAP_BUDGET = 5_000
overlapping_fields.MAX_COMPLEXITY_BUDGET = OVERLAP_BUDGET


@dataclass(frozen=True)
class Limits:
    max_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 5_000
    # Fragments may not make a document select more than its tokens could spell out.
    max_selections: int = 5_000
    max_list_items: int = 250
    max_page: int = 100


def rejected(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": REJECTED})


@dataclass(frozen=True, slots=True)
class Shape:
    """A selection set's figures with its fragments spread in place."""

    depth: int = 0
    aliases: int = 0
    selections: int = 0  # what a walk that expands every spread would visit


EMPTY = Shape()


def _combine(shapes: Iterator[Shape]) -> Shape:
    depth = aliases = selections = 0
    for shape in shapes:
        depth = max(depth, shape.depth)
        aliases += shape.aliases
        selections += shape.selections
    return Shape(depth, aliases, selections)


class ShapeMeter:
    """Shapes of one document's selection sets, each fragment measured once."""

    def __init__(self, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self._fragments: dict[str, Shape] = {}
        for name in dependency_order(fragments):
            self._fragments[name] = self.measure(fragments[name].selection_set)

    def measure(self, selection_set: SelectionSetNode | None) -> Shape:
        if selection_set is None:
            return EMPTY
        return _combine(self._selection(s) for s in selection_set.selections)

    def _selection(self, selection: object) -> Shape:
        if isinstance(selection, FieldNode):
            below = self.measure(selection.selection_set)
            # Introspection has its own switch; it counts only as a selection.
            introspection = selection.name.value.startswith("__")
            return Shape(
                depth=0 if introspection else 1 + below.depth,
                aliases=(1 if selection.alias else 0) + below.aliases,
                selections=1 + below.selections,
            )
        if isinstance(selection, InlineFragmentNode):
            return self.measure(selection.selection_set)
        if isinstance(selection, FragmentSpreadNode):
            # Unknown or cyclic spreads are other rules' errors; they add nothing here.
            shape = self._fragments.get(selection.name.value, EMPTY)
            return Shape(shape.depth, shape.aliases, 1 + shape.selections)
        return EMPTY


def shape_problems(shape: Shape, limits: Limits) -> list[str]:
    problems = []
    if shape.depth > limits.max_depth:
        problems.append(f"query depth is {shape.depth}; the limit is {limits.max_depth}")
    if shape.aliases > limits.max_aliases:
        problems.append(
            f"the query uses {shape.aliases} aliases; the limit is {limits.max_aliases}"
        )
    if shape.selections > limits.max_selections:
        problems.append(
            f"the query expands to {shape.selections:,} selections with its fragments "
            f"spread; the limit is {limits.max_selections:,}"
        )
    return problems


def limits_rule(limits: Limits) -> type[ASTValidationRule]:
    class QueryLimits(ASTValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.meter = ShapeMeter(fragments_of(context.document))

        def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> None:
            for problem in shape_problems(self.meter.measure(node.selection_set), limits):
                self.report_error(rejected(problem))

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
    """graphql-core's own limits as QUERY_REJECTED errors: the parser's token limit
    (strawberry's MaxTokensLimiter), and validation stopped by its error limit or by
    fragments nested deeper than graphql-core follows."""
    for error in errors:
        if isinstance(error, ValidationAbortedError) and error.message == "Validation aborted.":
            error.message = (
                f"the document is too complex to check: fragments nested more than "
                f"{MAX_NESTING_DEPTH} levels deep, or fields repeated past "
                f"{OVERLAP_BUDGET:,} steps of comparing them"
            )
        if "Document contains more than" in error.message or isinstance(
            error, ValidationAbortedError
        ):
            error.extensions = {**(error.extensions or {}), "code": REJECTED}
