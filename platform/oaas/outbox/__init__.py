"""The event outbox: every order event and grant change, written with the change.

`append` writes a row in the transaction of the change, with no position;
`assign_positions` numbers committed rows in commit order afterwards. Readers
(the feed, the NATS relay, the CLI tail) only ever see rows with a position,
through oaas.events.
"""

from oaas.outbox.models import OutboxEvent
from oaas.outbox.store import append, assign_positions, outbox, unsequenced

__all__ = ["OutboxEvent", "append", "assign_positions", "outbox", "unsequenced"]
