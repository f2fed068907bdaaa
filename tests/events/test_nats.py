"""The relay to NATS JetStream: each event once, its id as Nats-Msg-Id, resumable."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from uuid import uuid4

import nats
import pytest
from nats.js import JetStreamContext

from oaas.db import Database
from oaas.events.relay import Channel, ensure_stream, publish_pending
from oaas.graphql.ids import from_global_id
from oaas.settings import Settings
from tests.conftest import Api
from tests.events.documents import all_events
from tests.orders.documents import cancel, create_order

NATS_URL = "nats://127.0.0.1:4222"


def _nats_running() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 4222), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture
async def jetstream() -> AsyncIterator[tuple[JetStreamContext, Channel]]:
    if not _nats_running():
        pytest.skip("no NATS server at 127.0.0.1:4222 (nats-server -js -p 4222)")
    connection = await nats.connect(NATS_URL)
    tag = uuid4().hex[:12]
    channel = Channel(stream=f"TEST_{tag}", prefix=f"test{tag}")
    js = connection.jetstream()
    await ensure_stream(js, channel)
    try:
        yield js, channel
    finally:
        await js.delete_stream(channel.stream)
        await connection.close()


async def _messages(js: JetStreamContext, channel: Channel) -> list[nats.aio.msg.Msg]:
    info = await js.stream_info(channel.stream)
    return [await js.get_msg(channel.stream, seq) for seq in range(1, info.state.last_seq + 1)]


async def test_each_event_reaches_nats_once_and_a_restart_repeats_none(
    api: Api, settings: Settings, jetstream: tuple[JetStreamContext, Channel]
) -> None:
    js, channel = jetstream
    order = await create_order(api)
    database = Database(settings.migrations_url)
    try:
        first = await publish_pending(database, js, channel)
        assert first > 0
        # A relay that restarts resumes after the stream's last message.
        assert await publish_pending(database, js, channel) == 0
        assert (await cancel(api, order["id"]))["userErrors"] == []
        assert await publish_pending(database, js, channel) == 1
    finally:
        await database.dispose()
    events = await all_events(api, as_client="ops-admin")
    messages = await _messages(js, channel)
    ids = [str(from_global_id("Event", e["id"])) for e in events]
    assert [(m.headers or {})["Nats-Msg-Id"] for m in messages] == ids
    bodies = [json.loads(m.data) for m in messages]
    assert [b["position"] for b in bodies] == [e["position"] for e in events]
    assert messages[-1].subject == f"{channel.prefix}.acme.CANCELLED"
    # Publishing an event again (a relay that died before it saw the ack) is dropped.
    again = await js.publish(
        messages[-1].subject,
        messages[-1].data,
        stream=channel.stream,
        headers=dict(messages[-1].headers or {}),
    )
    assert again.duplicate
    assert len(await _messages(js, channel)) == len(messages)
