"""Walking a document's fragments in time linear in the document's size.

A fragment may spread another fragment twice, and that one the next twice:
forty such fragments (1.7 KB) expand to 2^40 selections. Every walk over a
document therefore takes each fragment's figures from a table filled once, in
an order where a fragment comes after every fragment it spreads, and never
expands a spread in place. Cycles are cut here and reported by graphql-core's
NoFragmentCyclesRule.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionSetNode,
)


def fragments_of(document: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}


def spread_names(selection_set: SelectionSetNode | None) -> Iterator[str]:
    """The fragments spread anywhere inside one selection set, without following them."""
    stack = [selection_set] if selection_set else []
    while stack:
        current = stack.pop()
        for selection in current.selections:
            if isinstance(selection, FragmentSpreadNode):
                yield selection.name.value
            elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
                stack.append(selection.selection_set)


def dependency_order(fragments: Mapping[str, FragmentDefinitionNode]) -> list[str]:
    """Fragment names, each after every fragment it spreads (an iterative depth-first
    walk: a chain of hundreds of fragments must not exhaust Python's stack)."""
    order: list[str] = []
    entered: set[str] = set()
    for root in fragments:
        if root in entered:
            continue
        entered.add(root)
        stack = [(root, spread_names(fragments[root].selection_set))]
        while stack:
            name, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                order.append(name)
            elif child in fragments and child not in entered:
                entered.add(child)
                stack.append((child, spread_names(fragments[child].selection_set)))
    return order


def collect_fields(
    selection_set: SelectionSetNode | None, fragments: Mapping[str, FragmentDefinitionNode]
) -> list[FieldNode]:
    """The fields one selection set selects, fragments spread in place, each fragment
    at most once (as GraphQL's CollectFields does): never longer than the document."""
    fields: list[FieldNode] = []
    visited: set[str] = set()
    stack: list[Iterator[object]] = [iter(selection_set.selections)] if selection_set else []
    while stack:
        selection = next(stack[-1], None)
        if selection is None:
            stack.pop()
        elif isinstance(selection, FieldNode):
            fields.append(selection)
        elif isinstance(selection, InlineFragmentNode):
            stack.append(iter(selection.selection_set.selections))
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in visited:
                visited.add(name)
                stack.append(iter(fragment.selection_set.selections))
    return fields
