"""SLAs: SLI aggregates recorded from spans, SLA definitions, reports and alerts."""
