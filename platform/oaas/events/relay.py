"""Publishing the outbox to NATS JetStream, in position order, each event once.

Each event goes to `oaas.<tenant handle>.<type>` with its id as `Nats-Msg-Id`,
so JetStream drops a repeat within its duplicate window. Where to resume is
read from the stream itself: the position header of its last message. A
relay that restarts (or two processes relaying at once: on PostgreSQL they take
turns under an advisory lock) republishes at most what it had not seen
acknowledged, and JetStream de-duplicates that.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

import nats
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from sqlalchemy import text

from oaas.db import SYSTEM_SCOPE, Database
from oaas.events.feed import PLATFORM, FeedEvent, envelope, events_after
from oaas.telemetry import get_logger


@dataclass(frozen=True, slots=True)
class Channel:
    """The stream and the subjects' first token."""

    stream: str = "OAAS_EVENTS"
    prefix: str = "oaas"


DEFAULT = Channel()
POSITION_HEADER = "Oaas-Position"
BATCH = 500
POLL_SECONDS = 1.0
# pg_advisory_xact_lock key of the relay: "oaas" "nat" in ASCII.
RELAY_LOCK = 0x6F616173_006E6174
log = get_logger("oaas.events")


def subject_of(event: FeedEvent, channel: Channel = DEFAULT) -> str:
    return f"{channel.prefix}.{event.tenant_handle}.{event.type}"


def body_of(event: FeedEvent) -> bytes:
    return json.dumps(envelope(event), separators=(",", ":")).encode()


async def ensure_stream(js: JetStreamContext, channel: Channel = DEFAULT) -> None:
    try:
        await js.stream_info(channel.stream)
    except NotFoundError:
        await js.add_stream(name=channel.stream, subjects=[f"{channel.prefix}.>"])


async def last_published(js: JetStreamContext, channel: Channel = DEFAULT) -> int:
    """The position of the last event the stream holds; 0 for an empty stream."""
    info = await js.stream_info(channel.stream)
    if not info.state.last_seq:
        return 0
    message = await js.get_msg(channel.stream, info.state.last_seq)
    return int((message.headers or {}).get(POSITION_HEADER, "0"))


async def publish_pending(
    database: Database, js: JetStreamContext, channel: Channel = DEFAULT, batch: int = BATCH
) -> int:
    """Publishes up to `batch` events after the stream's last; answers how many."""
    async with database.session(write=False, scope=SYSTEM_SCOPE) as session:
        if session.get_bind().dialect.name == "postgresql":
            await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": RELAY_LOCK})
        after = await last_published(js, channel)
        page = await events_after(session, PLATFORM, after=after, first=batch)
        for event in page.events:
            await js.publish(
                subject_of(event, channel),
                body_of(event),
                stream=channel.stream,
                headers={"Nats-Msg-Id": str(event.id), POSITION_HEADER: str(event.position)},
            )
    return len(page.events)


async def relay_forever(database: Database, url: str, poll_seconds: float = POLL_SECONDS) -> None:
    while True:
        try:
            connection = await nats.connect(url, connect_timeout=5, max_reconnect_attempts=3)
            try:
                js = connection.jetstream()
                await ensure_stream(js)
                while True:
                    if await publish_pending(database, js) < BATCH:
                        await asyncio.sleep(poll_seconds)
            finally:
                await connection.close()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("relaying events to NATS failed; will retry")
            await asyncio.sleep(poll_seconds)
