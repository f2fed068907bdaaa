"""Authentication: the OAuth 2.0 token endpoint, signing keys, access token checks."""
