"""Query cost, in Shopify's terms: an object costs 1, a scalar or enum 0, a
connection 2 + first x the cost of one node, a mutation 10 plus what it selects.

`requested_cost` is the static figure before execution (connections at the size
asked for, plain lists at their declared size); `actual_cost` walks the result
(connections and lists at the size returned).

Both walks take time linear in the document: the static one prices each
(selection set, type) once and a fragment spread by its table entry, the
actual one collects each selection set's fields once, each fragment at most
once (`oaas.graphql.fragments`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    value_from_ast_untyped,
)

from oaas.graphql.fragments import collect_fields, dependency_order

MUTATION_COST = 10
CONNECTION_BASE = 2
DEFAULT_PAGE = 20

# What a plain list of objects is priced at before it runs: the size most
# answers stay within. An answer can hold more (an order may have 250 lines):
# the actual cost counts every item and the difference is charged to the
# tenant's bucket after the query, so no list is ever free. Every object list
# of the schema is named here (tests/graphql/test_cost_bounds.py checks it).
LIST_SIZES: Mapping[str, int] = {
    "Query.apiClients": 10,
    "Query.orderAccessGrants": 10,
    "Query.slaAlerts": 10,
    "Query.fulfillmentNodes": 10,
    "Order.lines": 5,
    "Order.routingHistory": 2,
    "Order.events": 10,
    "RoutingDecision.candidates": 10,
    "RoutingDecision.assignments": 3,
    "RoutingAssignment.lines": 10,
    "RiskAssessment.facts": 10,
    "SlaReport.tenants": 20,
    "SlaTenantReport.operations": 10,
    "SlaTenantReport.fulfilmentByMerchant": 10,
    "SlaDefinition.latencyP95Ms": 10,
    "FulfillmentNode.regionRates": 10,
    "FulfillmentNode.promiseHours": 10,
    "FulfillmentNode.stock": 50,
    "RoutingProfile.regionCentroids": 20,
    "RoutingFairnessReport.regions": 20,
}

DEFAULT_LIST_SIZE = 10

# Objects that report on the request itself rather than fetch data: free, like scalars.
FREE_TYPES = frozenset({"UserError"})


def _is_connection(type_: Any) -> bool:
    return isinstance(type_, GraphQLObjectType) and type_.name.endswith("Connection")


def _is_list(type_: GraphQLOutputType) -> bool:
    return isinstance(type_.of_type if isinstance(type_, GraphQLNonNull) else type_, GraphQLList)


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


def _key(field: FieldNode) -> str:
    return field.alias.value if field.alias else field.name.value


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
        self._priced: dict[tuple[int, str], int] = {}
        self._fragments_priced = False
        self._collected: dict[int, list[FieldNode]] = {}

    def fields(self, selection_set: SelectionSetNode | None) -> list[FieldNode]:
        """The fields of a selection set with fragments spread in place, collected once."""
        if selection_set is None:
            return []
        key = id(selection_set)
        if key not in self._collected:
            self._collected[key] = collect_fields(selection_set, self.fragments)
        return self._collected[key]

    # The static price, before anything runs.

    def requested(self, parent: Any, selection_set: SelectionSetNode | None) -> int:
        if not isinstance(parent, GraphQLObjectType) or selection_set is None:
            return 0
        if not self._fragments_priced:
            self._fragments_priced = True
            self._price_fragments()
        key = (id(selection_set), parent.name)
        if key not in self._priced:
            self._priced[key] = 0  # a cycle (refused by validation) prices nothing
            self._priced[key] = sum(
                self._price_selection(parent, selection) for selection in selection_set.selections
            )
        return self._priced[key]

    def _price_fragments(self) -> None:
        """Prices every fragment on its own type first, those it spreads before it, so a
        spread is a table lookup and no walk recurses along a chain of fragments."""
        for name in dependency_order(self.fragments):
            fragment = self.fragments[name]
            type_ = self.schema.get_type(fragment.type_condition.name.value)
            if isinstance(type_, GraphQLObjectType):
                self.requested(type_, fragment.selection_set)

    def _price_selection(self, parent: GraphQLObjectType, selection: object) -> int:
        if isinstance(selection, FieldNode):
            return self._price_field(parent, selection)
        if isinstance(selection, InlineFragmentNode):
            return self.requested(parent, selection.selection_set)
        if isinstance(selection, FragmentSpreadNode):
            fragment = self.fragments.get(selection.name.value)
            return self.requested(parent, fragment.selection_set) if fragment else 0
        return 0

    def _price_field(self, parent: GraphQLObjectType, field: FieldNode) -> int:
        definition = parent.fields.get(field.name.value)
        if definition is None:
            return 0
        named = get_named_type(definition.type)
        if not isinstance(named, GraphQLObjectType) or named.name in FREE_TYPES:
            return 0  # scalars and enums are free
        if _is_connection(named):
            edges = named.fields.get("edges")
            edge_type = get_named_type(edges.type) if edges is not None else None
            node_cost = sum(
                self.requested(edge_type, edges_node.selection_set)
                for edges_node in self.fields(field.selection_set)
                if edges_node.name.value == "edges"
            )
            size = min(_first_argument(field, self.variables), self.max_page)
            return CONNECTION_BASE + size * node_cost
        one = 1 + self.requested(named, field.selection_set)
        if _is_list(definition.type):
            return LIST_SIZES.get(f"{parent.name}.{field.name.value}", DEFAULT_LIST_SIZE) * one
        return one

    # The actual price, from the answer.

    def actual(self, parent: Any, selection_set: SelectionSetNode | None, data: Any) -> int:
        if not isinstance(parent, GraphQLObjectType) or not isinstance(data, dict):
            return 0
        total = 0
        for field in self.fields(selection_set):
            definition = parent.fields.get(field.name.value)
            if definition is None:
                continue
            named = get_named_type(definition.type)
            if not isinstance(named, GraphQLObjectType) or named.name in FREE_TYPES:
                continue
            child = data.get(_key(field))
            if child is None:
                continue  # null: nothing was fetched below it
            if _is_connection(named):
                total += self._actual_connection(named, field, child)
            elif isinstance(child, list):
                total += sum(1 + self.actual(named, field.selection_set, item) for item in child)
            else:
                total += 1 + self.actual(named, field.selection_set, child)
        return total

    def _actual_connection(self, connection: GraphQLObjectType, field: FieldNode, data: Any) -> int:
        edges_field = connection.fields.get("edges")
        total = CONNECTION_BASE
        if edges_field is None or not isinstance(data, dict):
            return total
        edge_type = get_named_type(edges_field.type)
        for edges_node in self.fields(field.selection_set):
            if edges_node.name.value == "edges":
                total += sum(
                    self.actual(edge_type, edges_node.selection_set, edge)
                    for edge in data.get(_key(edges_node)) or []
                )
        return total


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
    if actual:
        if not isinstance(data, dict):
            return 0
        cost = calculator.actual(root, operation.selection_set, data)
    else:
        cost = calculator.requested(root, operation.selection_set)
    if operation.operation is OperationType.MUTATION:
        mutations = len(calculator.fields(operation.selection_set))
        cost += MUTATION_COST * mutations - mutations  # a mutation field costs 10, not 1
    return cost
