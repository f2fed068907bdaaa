"""A small typed Python client for the oaas GraphQL gateway (see schema.graphql)."""

from oaas_client.client import GraphQLFailed, OaasClient, UserErrors

__all__ = ["GraphQLFailed", "OaasClient", "UserErrors"]
