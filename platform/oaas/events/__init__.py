"""Events out: what the outbox holds, as each reader may see it.

`payloads` writes an order event's payload at the end of its transaction;
`sequencer` numbers committed events in commit order; `feed` pages events
after a position for one audience, with the share policy applied (the
GraphQL `events` query, `oaas events tail`, the NATS relay); `relay`
publishes them to NATS JetStream. The outbox table itself is oaas.outbox,
below the orders and grants that write to it.
"""

from oaas.events import payloads as _payloads

_payloads.install()
