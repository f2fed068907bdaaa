"""Telemetry: structured logs, OpenTelemetry tracing, and SLI aggregation from spans."""

from oaas.telemetry.logs import configure_logging, get_logger

__all__ = ["configure_logging", "get_logger"]
