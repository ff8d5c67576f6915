"""What the loop app contributes to a requirement's life (registered from ``LoopConfig.ready()``).

- A status listener: a move into a rejected or done status queues ``tasks.close_loop_after_move`` (tell the
  people who asked, draft the release note on launch, invite to CSAT on close).
- A section ``loop`` on the requirement page and in its archive: notices sent and the CSAT result.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from needpool.requirements import lifecycle


def on_status_moved(event: lifecycle.StatusMoved) -> None:
    from needpool.loop.services.notices import event_for_move
    from needpool.loop.tasks import close_loop_after_move

    notice_event = event_for_move(
        target_key=event.target_key, target_category=event.target_category, source_category=event.source_category
    )
    if notice_event is not None:
        close_loop_after_move(event.requirement_id, str(notice_event), event.note, event.actor_id)


def section_context(requirement: Any, user: Any) -> dict[str, Any] | None:
    from needpool.loop.selectors import requirement_loop

    return requirement_loop(requirement=requirement, user=user)


def section_probe() -> Any:
    """Whether the page's requirement has a notice or a satisfaction survey (``requirement_loop`` shows
    nothing without either)."""
    from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q

    from needpool.loop.models import CustomerNotice, SurveyInvitation

    notices = Exists(CustomerNotice.objects.filter(requirement_id=OuterRef("pk")))
    surveyed = Exists(SurveyInvitation.objects.filter(requirement_id=OuterRef("pk"), kind=SurveyInvitation.Kind.CSAT))
    return ExpressionWrapper(Q(notices) | Q(surveyed), output_field=BooleanField())


def register() -> None:
    """Register this app's gates, facts, status listeners and requirement sections (idempotent)."""
    lifecycle.register_status_listener("loop.close_the_loop", on_status_moved)
    lifecycle.register_section(
        lifecycle.Section(
            key="loop",
            label=lambda: _("客户闭环"),
            order=80,
            template="loop/_requirement_section.html",
            context=section_context,
            probe=section_probe,
            places=frozenset({"detail", "dossier"}),
        )
    )
