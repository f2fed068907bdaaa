"""Per-tenant cost quotas: plans and the leaky buckets that enforce them."""
