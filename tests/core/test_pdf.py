"""PDF with Chinese text, without fetching anything a document names; downloads keep Chinese file names."""

import re
import shutil
import subprocess
import zlib

import pytest
from django.test import RequestFactory

from needpool.core.pdf import download_name, html_to_pdf, pdf_response, word_response


def test_a_chinese_document_becomes_a_pdf_set_in_a_cjk_font() -> None:
    if (
        not shutil.which("fc-list")
        or "WenQuanYi" not in subprocess.run(["fc-list"], capture_output=True, text=True, check=False).stdout
    ):
        pytest.skip("the CJK font fonts-wqy-microhei is not installed (scripts/test installs it as root)")
    pdf = html_to_pdf("<h1>评审纪要</h1><p>批量订单折扣</p>")
    assert pdf.startswith(b"%PDF")
    assert b"WenQuanYi" in b"".join(_streams(pdf))  # set in the CJK font, embedded, not in empty boxes


def _streams(pdf: bytes) -> list[bytes]:
    """The PDF's compressed streams, inflated (font dictionaries live in object streams)."""
    found = []
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            found.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    return found


def test_nothing_a_document_names_is_fetched(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []

    def spy(*args: object, **kwargs: object) -> None:
        opened.append(str(args))
        raise AssertionError("no network access expected")

    monkeypatch.setattr("urllib.request.OpenerDirector.open", spy)
    pdf = html_to_pdf('<img src="http://127.0.0.1:9/x.png"><link rel="stylesheet" href="http://127.0.0.1:9/s.css">正文')
    assert pdf.startswith(b"%PDF") and opened == []


def test_download_name_keeps_chinese_with_an_ascii_fallback() -> None:
    value = download_name("评审纪要-R1.pdf")
    assert value.startswith('attachment; filename="-R1.pdf"')
    assert "filename*=UTF-8''%E8%AF%84%E5%AE%A1%E7%BA%AA%E8%A6%81-R1.pdf" in value
    assert download_name("纪要").startswith('attachment; filename="download"')


@pytest.mark.django_db
def test_responses_carry_their_types(tmp_path: object, settings: object) -> None:
    request = RequestFactory().get("/")
    pdf = pdf_response(request, "core/busy.html", {}, "忙.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    doc = word_response(request, "core/busy.html", {}, "忙.doc")
    assert doc["Content-Type"].startswith("application/msword") and b"<" in doc.content
