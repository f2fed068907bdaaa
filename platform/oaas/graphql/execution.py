"""Root fields run one after another, queries included.

Every field of an operation shares one database session (one transaction, one
connection), and a session allows one statement at a time. graphql-core runs a
query's root fields concurrently; running them in order keeps each root
resolver the session's only user, while nested fields read through DataLoaders
that batch per level and take the session's lock.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLObjectType
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class SerialRootExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def execute_root_grouped_field_set(
        self,
        root_type: GraphQLObjectType,
        root_value: Any,
        grouped_field_set: Any,
        serially: bool,
        position_context: Any,
    ) -> Any:
        return super().execute_root_grouped_field_set(
            root_type, root_value, grouped_field_set, True, position_context
        )
