"""The GraphQL layer: types, thin resolvers, and the schema built from them."""
