"""Tenants as code: manifests read, validated and applied in one transaction."""
