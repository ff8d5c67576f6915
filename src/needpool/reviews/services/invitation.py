"""The meeting invitation: an iCalendar (.ics) request mailed to the chair and attendees.

The UID is stable per meeting and SEQUENCE is the meeting's version, so a calendar replaces the event when the
meeting is rescheduled. Each version is mailed once per person (the mail key names meeting, version, user).
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from icalendar import Calendar, Event, vCalAddress, vText

from needpool.accounts.models import User
from needpool.core.links import absolute
from needpool.core.mail import mail_queue
from needpool.notify.kinds import EventKind
from needpool.notify.models import Event as NotifyEvent
from needpool.notify.services import emit
from needpool.reviews.models import ReviewMeeting

PRODID = "-//Needpool//Reviews//ZH"


def meeting_uid(meeting: ReviewMeeting) -> str:
    return f"review-meeting-{meeting.pk}@needpool"


def meeting_url(meeting: ReviewMeeting) -> str:
    return absolute(reverse("reviews:detail", args=[meeting.pk]))


def invitation_ics(meeting: ReviewMeeting, *, now: dt.datetime | None = None) -> str:
    """The meeting as an iCalendar REQUEST (no agenda: attendees may not all see every requirement)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST")
    event = Event()
    event.add("uid", meeting_uid(meeting))
    event.add("sequence", int(meeting.version))
    event.add("dtstamp", (now or timezone.now()).astimezone(dt.UTC))
    event.add("dtstart", meeting.starts_at.astimezone(dt.UTC))
    event.add("dtend", meeting.ends_at.astimezone(dt.UTC))
    event.add("summary", _("需求评审：%(title)s") % {"title": meeting.title})
    if meeting.place:
        event.add("location", meeting.place)
    if meeting.link:
        event.add("url", meeting.link)
    description = [_("会议页面：%(url)s") % {"url": meeting_url(meeting)}]
    if meeting.link:
        description.append(_("会议链接：%(link)s") % {"link": meeting.link})
    event.add("description", "\n".join(description))
    chair = meeting.chair
    if chair.email:
        organizer = vCalAddress(f"mailto:{chair.email}")
        organizer.params["cn"] = vText(str(chair))
        event["organizer"] = organizer
    for seat in meeting.attendees.select_related("user"):
        if not seat.user.email:
            continue
        attendee = vCalAddress(f"mailto:{seat.user.email}")
        attendee.params["cn"] = vText(str(seat.user))
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        attendee.params["rsvp"] = vText("TRUE")
        event.add("attendee", attendee, encode=False)
    calendar.add_component(event)
    return str(calendar.to_ical().decode("utf-8"))


def meeting_send_invitation(meeting: ReviewMeeting, *, actor: User | None = None) -> int:
    """Queue the invitation for this version of the meeting to the chair and each attendee (once each), and
    tell those not yet told of this version (an event REVIEW; ``actor``, who made the change, is not).

    Only while the meeting is being prepared; returns how many mails were queued now.
    """
    if meeting.status != ReviewMeeting.Status.PREPARING:
        return 0
    people = {seat.user.pk: seat.user for seat in meeting.attendees.select_related("user")}
    people.setdefault(meeting.chair.pk, meeting.chair)
    ics = invitation_ics(meeting)
    local = timezone.localtime(meeting.starts_at)
    update = meeting.version > 1
    subject = (_("评审会议更新：%(title)s") if update else _("评审会议邀请：%(title)s")) % {"title": meeting.title}
    body = "\n".join(
        [
            _("会议：%(title)s") % {"title": meeting.title},
            _("时间：%(start)s — %(end)s")
            % {
                "start": local.strftime("%Y-%m-%d %H:%M"),
                "end": timezone.localtime(meeting.ends_at).strftime("%Y-%m-%d %H:%M"),
            },
            _("地点：%(place)s") % {"place": meeting.place or "—"},
            _("会议页面：%(url)s") % {"url": meeting_url(meeting)},
        ]
    )
    queued = 0
    for user in people.values():
        if not (user.email and user.is_active):
            continue
        mail = mail_queue(
            key=f"review:invite:{meeting.pk}:v{meeting.version}:{user.pk}",
            to=[user.email],
            subject=subject,
            body=body,
            attachments=[{"filename": "invite.ics", "content": ics, "mimetype": "text/calendar"}],
        )
        queued += mail is not None
    _tell_invited(meeting, people, actor=actor, start=local)
    return queued


def _tell_invited(meeting: ReviewMeeting, people: dict[int, User], *, actor: User | None, start: dt.datetime) -> None:
    prefix = f"review:invite:{meeting.pk}:v{meeting.version}:"
    told: set[int] = set()
    for recipients in NotifyEvent.objects.filter(key__startswith=prefix).values_list("recipients", flat=True):
        told.update(recipients)
    actor_id = getattr(actor, "pk", None)
    fresh = sorted(pk for pk, user in people.items() if pk not in told and pk != actor_id and user.is_active)
    if not fresh:
        return
    digest = hashlib.sha256(",".join(map(str, fresh)).encode()).hexdigest()[:24]
    chair = meeting.chair
    emit(
        kind=EventKind.REVIEW,
        key=prefix + digest,
        message=(
            gettext_noop("评审会议更新：%(title)s") if meeting.version > 1 else gettext_noop("评审会议邀请：%(title)s")
        ),
        params={"title": meeting.title, "start": start.strftime("%Y-%m-%d %H:%M"), "place": meeting.place or "—"},
        url=reverse("reviews:detail", args=[meeting.pk]),
        actor=actor,
        recipients=[people[pk] for pk in fresh],
        mailed=[pk for pk in fresh if people[pk].email],  # the invitation mail itself told them
        teams=[chair.team_id] if chair.team_id else [],
        subject={"type": "review", "id": meeting.pk, "code": "", "title": meeting.title},
        data={
            "event": "invitation",
            "version": meeting.version,
            "starts_at": meeting.starts_at.isoformat(),
            "ends_at": meeting.ends_at.isoformat(),
            "place": meeting.place,
        },
    )
