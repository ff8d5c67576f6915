"""How other parts plug into delivery: target sources name extra targets of an event, senders send one delivery.

Filled in ``AppConfig.ready()`` (the chat bots, the outbound webhooks) and by ``notify.senders`` (mail, the
user's own IM bot). A sender returns a ``SendResult``; raising ``SendError`` (or any exception) counts as a failed
attempt that is retried with backoff.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from needpool.notify.models import Delivery, Event


@dataclass(frozen=True)
class SendResult:
    """What a send came back with (for the delivery log)."""

    response_status: int | None = None
    response_excerpt: str = ""
    skipped: bool = False  # nothing to send to (no address, route switched off): not an error, not retried


class SendError(Exception):
    """A send that failed and may succeed later (network, 5xx, the platform's error code)."""

    def __init__(self, message: str, *, response_status: int | None = None, response_excerpt: str = "") -> None:
        super().__init__(message)
        self.response_status = response_status
        self.response_excerpt = response_excerpt


TargetSource = Callable[["Event"], Iterable[str]]
Sender = Callable[["Delivery"], SendResult]

_target_sources: dict[str, TargetSource] = {}
_senders: dict[str, Sender] = {}


def register_target_source(name: str, source: TargetSource) -> None:
    """``source(event)`` yields targets (``"<kind>:<id>"``) beyond the recipients' own channels."""
    _target_sources[name] = source


def register_sender(target_kind: str, sender: Sender) -> None:
    """``sender(delivery)`` sends one delivery whose target starts with ``target_kind:``."""
    _senders[target_kind] = sender


def target_sources() -> list[TargetSource]:
    return list(_target_sources.values())


def sender_for(target_kind: str) -> Sender | None:
    return _senders.get(target_kind)
