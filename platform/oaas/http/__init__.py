"""The HTTP edge: routes, middleware, and the adapters to auth and GraphQL."""

from oaas.http.routes import Components, build_http_app

__all__ = ["Components", "build_http_app"]
