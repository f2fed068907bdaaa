"""What happens around an order's life: risk check, routing, holds, deferral and retries.

Sits above orders, routing and risk, and ties them together in one transaction
per change; the GraphQL layer and the work queue's worker both come through here.
"""
