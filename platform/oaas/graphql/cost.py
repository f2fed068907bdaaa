"""Query cost, in Shopify's terms: an object costs 1, a scalar or enum 0, a
connection 2 + first x the cost of one node, a mutation 10 plus what it selects.

`requested_cost` is the static figure before execution (connections at the size
asked for); `actual_cost` walks the result (connections at the size returned).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    value_from_ast_untyped,
)

MUTATION_COST = 10
CONNECTION_BASE = 2
DEFAULT_PAGE = 20


def _is_connection(type_: Any) -> bool:
    return isinstance(type_, GraphQLObjectType) and type_.name.endswith("Connection")


def _first_argument(field: FieldNode, variables: Mapping[str, Any]) -> int:
    for argument in field.arguments or ():
        if argument.name.value == "first":
            value = argument.value
            if isinstance(value, VariableNode):
                raw = variables.get(value.name.value, DEFAULT_PAGE)
            else:
                raw = value_from_ast_untyped(value, dict(variables))
            return (
                raw
                if isinstance(raw, int) and raw > 0
                else (0 if raw is not None else DEFAULT_PAGE)
            )
    return DEFAULT_PAGE


class CostCalculator:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        max_page: int,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.max_page = max_page

    def _fields(
        self, selection_set: SelectionSetNode | None, seen: frozenset[str] = frozenset()
    ) -> list[FieldNode]:
        """The field nodes of a selection set with fragments spread in place."""
        fields: list[FieldNode] = []
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                fields.append(selection)
            elif isinstance(selection, InlineFragmentNode):
                fields.extend(self._fields(selection.selection_set, seen))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in seen:
                    fields.extend(self._fields(fragment.selection_set, seen | {name}))
        return fields

    def _field_def(self, parent: GraphQLObjectType, field: FieldNode) -> GraphQLField | None:
        definition: GraphQLField | None = parent.fields.get(field.name.value)
        return definition

    def selection_cost(
        self, parent: Any, selection_set: SelectionSetNode | None, data: Any = None
    ) -> int:
        """Cost of a selection on an object of `parent` type; with `data`, at actual sizes."""
        if not isinstance(parent, GraphQLObjectType):
            return 0
        total = 0
        for field in self._fields(selection_set):
            definition = self._field_def(parent, field)
            if definition is None:
                continue
            named = get_named_type(definition.type)
            if not isinstance(named, GraphQLObjectType):
                continue  # scalars and enums are free
            key = field.alias.value if field.alias else field.name.value
            child = data.get(key) if isinstance(data, dict) else None
            if _is_connection(named):
                total += self._connection_cost(named, field, child, data is not None)
                continue
            if isinstance(child, list):
                total += sum(
                    1 + self.selection_cost(named, field.selection_set, item) for item in child
                )
            elif data is not None and child is None:
                continue  # null: nothing was fetched below it
            else:
                total += 1 + self.selection_cost(named, field.selection_set, child)
        return total

    def _connection_cost(
        self, connection: GraphQLObjectType, field: FieldNode, data: Any, actual: bool
    ) -> int:
        edges_field = connection.fields.get("edges")
        node_cost = 0
        edge_nodes: list[Any] = []
        if actual and isinstance(data, dict):
            for edges_node in self._fields(field.selection_set):
                if edges_node.name.value == "edges":
                    key = edges_node.alias.value if edges_node.alias else "edges"
                    edge_nodes = data.get(key) or []
        if edges_field is not None:
            edge_type = get_named_type(edges_field.type)
            for edges_node in self._fields(field.selection_set):
                if edges_node.name.value != "edges" or not isinstance(edge_type, GraphQLObjectType):
                    continue
                if actual:
                    return CONNECTION_BASE + sum(
                        self.selection_cost(edge_type, edges_node.selection_set, edge)
                        for edge in edge_nodes
                    )
                node_cost = self.selection_cost(edge_type, edges_node.selection_set)
        if actual:
            return CONNECTION_BASE if data is not None else 0
        size = min(_first_argument(field, self.variables), self.max_page)
        return CONNECTION_BASE + size * node_cost


def _root(schema: GraphQLSchema, operation: OperationDefinitionNode) -> GraphQLObjectType | None:
    if operation.operation is OperationType.MUTATION:
        return schema.mutation_type
    if operation.operation is OperationType.QUERY:
        return schema.query_type
    return schema.subscription_type


def operation_cost(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
    *,
    max_page: int,
    data: Any = None,
    actual: bool = False,
) -> int:
    """The requested cost, or with `actual` the cost of what `data` holds."""
    root = _root(schema, operation)
    calculator = CostCalculator(schema, fragments, variables, max_page)
    if actual and not isinstance(data, dict):
        return 0
    cost = calculator.selection_cost(root, operation.selection_set, data if actual else None)
    if operation.operation is OperationType.MUTATION:
        mutations = len(calculator._fields(operation.selection_set))
        cost += MUTATION_COST * mutations - mutations  # a mutation field costs 10, not 1
    return cost
