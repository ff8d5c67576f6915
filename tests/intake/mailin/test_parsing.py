"""Reading mails: encoded Chinese headers (UTF-8 and GBK), plain text before HTML, HTML turned into text,
quoted replies and signatures trimmed, attachments with Chinese names, unreadable input refused."""

from __future__ import annotations

import pytest

from needpool.intake.mailin.parsing import MailParseError, html_to_text, parse_mail, raw_key, trim_reply
from tests.intake.mailin.conftest import gbk_mail, make_mail


def test_utf8_encoded_word_subject_and_sender_are_decoded():
    mail = make_mail(subject="报表导出希望支持 Excel", sender="王总 <Wang@A-Tech.com.cn>", message_id="<m1@x>")
    raw = mail.as_bytes()
    assert b"=?utf-8?" in raw  # the subject really travels encoded
    parsed = parse_mail(raw)
    assert parsed.subject == "报表导出希望支持 Excel"
    assert parsed.from_address == "wang@a-tech.com.cn"
    assert parsed.from_name == "王总"
    assert parsed.message_id == "<m1@x>"
    assert parsed.text == "希望导出订单时可以按月份筛选。"


def test_gbk_subject_and_gb2312_labelled_body_are_decoded():
    # 镕 is in GBK but not in GB2312: a body labelled gb2312 still decodes.
    parsed = parse_mail(gbk_mail(subject="售后响应太慢", body="朱镕基路的仓库发货太慢了。"))
    assert parsed.subject == "售后响应太慢"
    assert parsed.from_name == "李经理"
    assert parsed.from_address == "li@b-corp.cn"
    assert parsed.text == "朱镕基路的仓库发货太慢了。"


def test_plain_text_is_preferred_over_html():
    parsed = parse_mail(make_mail(body="纯文本内容", html="<p>网页内容</p>").as_bytes())
    assert parsed.text == "纯文本内容"


def test_html_only_mail_becomes_text_without_scripts_styles_or_quotes():
    html = (
        "<html><head><style>p{color:red}</style></head><body><p>第一段&amp;说明</p><div>第二段<br>换行</div>"
        "<script>alert(1)</script><blockquote>旧邮件内容</blockquote></body></html>"
    )
    parsed = parse_mail(make_mail(body=None, html=html).as_bytes())
    assert parsed.text == "第一段&说明\n\n第二段\n换行"


def test_quoted_reply_and_signature_are_trimmed():
    text = "好的，我们下周试用。\n\n-- \n王总\n采购总监\n-----Original Message-----\nFrom: support\n> 旧内容\n"
    assert trim_reply(text) == "好的，我们下周试用。"
    assert trim_reply("新的意见\n\n发件人: 客服 <a@b.com>\n发送时间: 2024\n原来的话") == "新的意见"
    assert trim_reply("> 引用\n新的一行\n> 引用二") == "新的一行"
    assert trim_reply("On Mon, 1 Jan 2024 someone wrote:\n> x") == ""


def test_attachments_keep_their_chinese_names_and_bytes():
    mail = make_mail(
        attachments=[("需求说明.pdf", "application/pdf", b"%PDF-1.4 demo"), ("截图.png", "image/png", b"\x89PNG")]
    )
    parsed = parse_mail(mail.as_bytes())
    assert [(a.name, a.content_type, a.data) for a in parsed.attachments] == [
        ("需求说明.pdf", "application/pdf", b"%PDF-1.4 demo"),
        ("截图.png", "image/png", b"\x89PNG"),
    ]
    assert parsed.text == "希望导出订单时可以按月份筛选。"


def test_reply_headers_give_the_thread_nearest_first():
    parsed = parse_mail(make_mail(subject="Re: 导出 [FB-42]", in_reply_to="<b@x>", references="<a@x> <b@x>").as_bytes())
    assert parsed.thread_ids == ["<b@x>", "<a@x>"]
    assert parsed.feedback_token == 42


def test_a_mail_without_message_id_is_keyed_by_its_bytes():
    raw = b"From: a@b.cn\r\nSubject: hi\r\n\r\nbody\r\n"
    assert parse_mail(raw).message_id == raw_key(raw) == parse_mail(raw).message_id
    assert raw_key(raw + b"x") != raw_key(raw)


def test_auto_replies_are_recognised():
    assert parse_mail(make_mail(extra={"Auto-Submitted": "auto-replied"}).as_bytes()).auto_reply
    assert not parse_mail(make_mail(extra={"Auto-Submitted": "no"}).as_bytes()).auto_reply


@pytest.mark.parametrize(
    "raw",
    [b"", b"   \r\n", b"not a mail at all", b"Subject: no sender\r\n\r\nbody", b"From: nobody\r\n\r\nx"],
)
def test_unreadable_input_is_refused(raw):
    with pytest.raises(MailParseError):
        parse_mail(raw)


def test_html_to_text_survives_broken_markup():
    assert "正文" in html_to_text("<p>正文<div><<<>")
