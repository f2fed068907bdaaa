"""Tenants, their API clients and the manifests that declare them."""
