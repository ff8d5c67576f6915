"""A contact's mails in their personal-data copy, and erasure scrubbing them (PIPL)."""

from __future__ import annotations

from needpool.customers.selectors import contact_personal_data
from needpool.customers.services import contact_erase
from needpool.intake.mailin.models import InboundMail
from needpool.intake.mailin.services import mail_ingest
from tests.intake.mailin.conftest import make_mail


def test_a_contacts_mails_are_in_the_copy_and_scrubbed_on_erasure(source, customer, admin_user):
    contact = customer.contacts.get()
    mail_ingest(source=source, raw=make_mail(subject="王总的需求", body="我是王总，电话 010-62345678").as_bytes())
    other = mail_ingest(source=source, raw=make_mail(sender="x@other.example", body="别人的").as_bytes())
    copy = contact_personal_data(user=admin_user, pk=contact.pk)
    assert [row["subject"] for row in copy["inbound_mails"]] == ["王总的需求"]
    contact_erase(actor=admin_user, contact=contact, reason="客户要求删除")
    mail = InboundMail.objects.exclude(pk=other.pk).get()
    assert mail.from_address == ""
    assert "王总" not in mail.subject + mail.body and "62345678" not in mail.body
    other.refresh_from_db()
    assert other.body == "别人的" and other.from_address == "x@other.example"
