"""oaas: Order-as-a-Service."""

__version__ = "0.1.0"
