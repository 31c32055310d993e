"""Change events: small messages naming what changed, for pages that update themselves
and for in-memory caches.

An event is only a name (`booking:YT-7K3Q9M`, `traveller:12`, `payments`, `dashboard`,
`departure:34`, `catalogue`); whoever receives it reads the fresh state itself, so an
event that is missed only delays. Services call `announce(*names)` inside the
transaction of the change:

- PostgreSQL: `pg_notify` on that transaction's connection, which PostgreSQL delivers
  exactly when it commits (never on rollback) to every process `LISTEN`ing on the
  database, this one included: one dedicated asyncpg connection per process
  (`PostgresListener`; asyncpg's pool runs `UNLISTEN *` on release, so never a pooled
  one). When that connection drops it reconnects and tells every subscriber to resync.
- SQLite (one process): inside `notify.change` the names wait for its commit; outside
  one they go out at once, which is safe because Tortoise serialises SQLite
  transactions within the process (the fragment a browser then fetches waits for the
  commit).

Each process has one `Events` (app[EventsKey]) fanning events out to its subscribers:
`subscribe(names)` (an async iterator for a stream) and `on(names, callback)` (a plain
call, for caches). Both also get `RESYNC` when events may have been missed.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import secrets
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from tortoise.connection import get_connections

log = logging.getLogger("yatri.events")

# The PostgreSQL channel every process listens on; a payload is one event name.
CHANNEL = "yatri_events"
# What subscribers get when events may have been missed (a reconnect, a full queue):
# everything they follow may have changed.
RESYNC = "resync"
# Names are short ASCII words; PostgreSQL refuses payloads over 8000 bytes.
MAX_NAME = 200
# The number part of an event id: ASCII digits only, bounded (a client sends it back).
_EVENT_NUMBER = re.compile(r"[0-9]{1,18}")


@dataclass(frozen=True)
class Event:
    id: str  # "<process>-<number>": Last-Event-ID replays from this process's recent ones
    name: str


class _Subscriber:
    def __init__(self, names: frozenset[str]) -> None:
        self.names = names

    def put(self, event: Event) -> None:
        raise NotImplementedError

    def end(self) -> None:
        """The bus closed (shutdown)."""


class Subscription(_Subscriber):
    """The events with one of `names`, in order, as an async iterator that ends when the
    bus closes. A subscriber that falls `limit` events behind gets one RESYNC instead."""

    def __init__(self, names: frozenset[str], limit: int) -> None:
        super().__init__(names)
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue(limit)

    def put(self, event: Event) -> None:
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            while not self._queue.empty():
                self._queue.get_nowait()
            self._queue.put_nowait(Event(event.id, RESYNC))

    def end(self) -> None:
        while self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(None)

    def __aiter__(self) -> AsyncIterator[Event]:
        return self

    async def __anext__(self) -> Event:
        event = await self._queue.get()
        if event is None:
            self._queue.put_nowait(None)  # stays ended
            raise StopAsyncIteration
        return event


class _Callback(_Subscriber):
    def __init__(self, names: frozenset[str], callback: Callable[[Event], None]) -> None:
        super().__init__(names)
        self.callback = callback

    def put(self, event: Event) -> None:
        try:
            self.callback(event)
        except Exception:  # one broken listener must not stop the others
            log.exception("event listener failed on %s", event.name)


class Events:
    """This process's fan-out: whatever is delivered goes to the subscribers of its name."""

    def __init__(self, history: int = 512, queue_limit: int = 64) -> None:
        self.process = secrets.token_hex(4)
        self._numbers = itertools.count(1)
        self._by_name: dict[str, set[_Subscriber]] = {}
        self._subscribers: set[_Subscriber] = set()
        self._recent: deque[Event] = deque(maxlen=history)
        self._queue_limit = queue_limit
        self.closed = False
        self.last_id = f"{self.process}-0"

    @contextmanager
    def subscribe(self, names: Iterable[str]) -> Iterator[Subscription]:
        """`with events.subscribe({"booking:YT-..."}) as events: async for event in events`."""
        subscription = Subscription(frozenset(names), self._queue_limit)
        self._add(subscription)
        if self.closed:
            subscription.end()
        try:
            yield subscription
        finally:
            self._remove(subscription)

    def on(self, names: Iterable[str], callback: Callable[[Event], None]) -> Callable[[], None]:
        """Call `callback(event)` for each event with one of `names` (and for RESYNC), in
        this process's loop, right as it arrives; keep it short. Returns the undo."""
        subscriber = _Callback(frozenset(names), callback)
        self._add(subscriber)
        return lambda: self._remove(subscriber)

    def _add(self, subscriber: _Subscriber) -> None:
        self._subscribers.add(subscriber)
        for name in subscriber.names:
            self._by_name.setdefault(name, set()).add(subscriber)

    def _remove(self, subscriber: _Subscriber) -> None:
        self._subscribers.discard(subscriber)
        for name in subscriber.names:
            followers = self._by_name.get(name)
            if followers is not None:
                followers.discard(subscriber)
                if not followers:
                    del self._by_name[name]

    @property
    def subscribers(self) -> int:
        """Subscriptions and callbacks."""
        return len(self._subscribers)

    @property
    def subscriptions(self) -> int:
        """Open subscriptions (streams), not counting callbacks."""
        return sum(isinstance(subscriber, Subscription) for subscriber in self._subscribers)

    def _next(self, name: str) -> Event:
        event = Event(f"{self.process}-{next(self._numbers)}", name)
        self.last_id = event.id
        return event

    def deliver(self, names: Iterable[str]) -> None:
        """Fan these names out to this process's subscribers (the listener and the SQLite
        path call it; services call `announce`)."""
        for name in dict.fromkeys(names):
            event = self._next(name)
            self._recent.append(event)
            for subscriber in list(self._by_name.get(name, ())):
                subscriber.put(event)

    def resync(self) -> None:
        """Events may have been missed (the listener reconnected): everyone refreshes."""
        event = self._next(RESYNC)
        self._recent.clear()  # ids from before cannot be replayed from
        for subscriber in list(self._subscribers):
            subscriber.put(event)

    def since(self, last_id: str, names: Iterable[str]) -> list[Event] | None:
        """The events after `last_id` with one of `names`, or None when this process cannot
        tell (another process's id, or too old): then refresh everything."""
        process, _, number = last_id.partition("-")
        if process != self.process or not _EVENT_NUMBER.fullmatch(number):
            return None
        seen = int(number)
        if seen > int(self.last_id.partition("-")[2]):
            return None
        oldest = int(self._recent[0].id.partition("-")[2]) if self._recent else int(self.last_id.partition("-")[2]) + 1
        if seen + 1 < oldest:
            return None
        wanted = frozenset(names)
        return [event for event in self._recent if int(event.id.partition("-")[2]) > seen and event.name in wanted]

    def close(self) -> None:
        """Shutdown: every subscription ends, so streams finish and the server can stop."""
        self.closed = True
        for subscriber in list(self._subscribers):
            subscriber.end()


# ------------------------------------------------------------------- publishing

_bus: ContextVar[Events | None] = ContextVar("yatri_events_bus", default=None)
_held: ContextVar[set[str] | None] = ContextVar("yatri_events_held", default=None)


@contextmanager
def publishing(bus: Events) -> Iterator[None]:
    """Make `bus` where this task's SQLite announcements go (requests and jobs enter it
    with the database context)."""
    token = _bus.set(bus)
    try:
        yield
    finally:
        _bus.reset(token)


@asynccontextmanager
async def held_until_commit() -> AsyncIterator[None]:
    """Around a change's transaction (`notify.change`): on SQLite, what is announced inside
    goes out once it has committed, nothing when it rolls back."""
    held: set[str] = set()
    token = _held.set(held)
    try:
        yield
    finally:
        _held.reset(token)
    bus = _bus.get()
    if held and bus is not None:
        bus.deliver(sorted(held))


def _connection():
    handler = get_connections()
    return handler.get(next(iter(handler.db_config)))


async def announce(*names: str) -> None:
    """Tell every process that these changed, as the current transaction commits."""
    names = tuple(name for name in names if name)
    if not names:
        return
    for name in names:
        if len(name) > MAX_NAME or "\n" in name:
            raise ValueError(f"not an event name: {name[:40]!r}")
    connection = _connection()
    if connection.capabilities.dialect == "postgres":
        for name in names:
            await connection.execute_query("SELECT pg_notify($1, $2)", [CHANNEL, name])
        return
    held = _held.get()
    if held is not None:
        held.update(names)
    elif (bus := _bus.get()) is not None:
        bus.deliver(names)


# ------------------------------------------------------------------- PostgreSQL


def listener_dsn(database_url: str) -> str:
    """asyncpg's form of DATABASE_URL, without Tortoise's pool parameters."""
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(scheme="postgresql", query="", fragment=""))


class PostgresListener:
    """One dedicated connection `LISTEN`ing on CHANNEL, feeding `bus`; when it drops (or
    stops answering the keep-alive), reconnect with backoff and tell the bus to resync."""

    def __init__(self, bus: Events, dsn: str, *, keepalive: float = 20.0, retry_max: float = 10.0) -> None:
        self.bus = bus
        self.dsn = dsn
        self.keepalive = keepalive
        self.retry_max = retry_max
        self.connection: asyncpg.Connection | None = None
        self.connects = 0  # how many times it (re)connected: tests and logs
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        """Connect once (so nothing committed after start is missed), then keep it up."""
        try:
            await self._connect()
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            log.warning("events: cannot LISTEN yet (%s); retrying", exc)
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self.connection is not None:
            await self.connection.close(timeout=2)

    def _received(self, connection, pid, channel, payload: str) -> None:
        self.bus.deliver([payload])

    async def _connect(self) -> None:
        connection = await asyncpg.connect(self.dsn, timeout=5)
        try:
            await connection.add_listener(CHANNEL, self._received)
        except BaseException:
            await connection.close()
            raise
        self.connection = connection
        self.connects += 1
        if self.connects > 1:
            log.info("events: LISTEN reconnected; subscribers resync")
            self.bus.resync()

    async def _run(self) -> None:
        delay = 0.2
        while True:
            if self.connection is None or self.connection.is_closed():
                self.connection = None
                try:
                    await self._connect()
                    delay = 0.2
                except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
                    log.warning("events: LISTEN connection failed (%s); again in %.1f s", exc, delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self.retry_max)
                    continue
            await self._watch(self.connection)

    async def _watch(self, connection: asyncpg.Connection) -> None:
        """Return once the connection is gone: closed by the server, or silent."""
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _: lost.set())
        while not connection.is_closed():
            try:
                await asyncio.wait_for(lost.wait(), self.keepalive)
                break
            except TimeoutError:
                pass
            try:
                await connection.fetchval("SELECT 1", timeout=5)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
                log.warning("events: LISTEN connection stopped answering (%s)", exc)
                connection.terminate()
                break
