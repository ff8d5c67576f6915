"""HTML to PDF with WeasyPrint, Chinese text included (minutes, dossiers, reports).

Pages render their print template to HTML as usual; ``pdf_response`` turns it into a PDF download. The
stylesheet names the CJK fonts a Debian machine has (WenQuanYi Micro Hei from fonts-wqy-microhei, Noto Sans
CJK) before the generic family, so no Chinese character falls back to an empty box.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

CJK_CSS = """
@page { size: A4; margin: 18mm 16mm; }
body { font-family: "WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC", sans-serif; font-size: 10.5pt; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #999; padding: 3px 5px; vertical-align: top; text-align: left; }
h1 { font-size: 16pt; } h2 { font-size: 13pt; margin-top: 1.2em; }
"""


def html_to_pdf(html: str) -> bytes:
    from weasyprint import CSS, HTML
    from weasyprint.urls import URLFetcher

    # Print templates are self-contained: only data: URLs load, nothing in a document makes the server fetch.
    fetcher = URLFetcher(allowed_protocols={"data"}, allow_redirects=False, timeout=1)
    pdf: bytes = HTML(string=html, url_fetcher=fetcher).write_pdf(stylesheets=[CSS(string=CJK_CSS)])
    return pdf


def download_name(filename: str) -> str:
    """A Content-Disposition value that keeps a Chinese file name (RFC 5987) with an ASCII fallback."""
    ascii_name = filename.encode("ascii", "ignore").decode() or "download"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def pdf_response(request: HttpRequest, template: str, context: dict[str, Any], filename: str) -> HttpResponse:
    html = render_to_string(template, context, request=request)
    response = HttpResponse(html_to_pdf(html), content_type="application/pdf")
    response["Content-Disposition"] = download_name(filename)
    return response


def word_response(request: HttpRequest, template: str, context: dict[str, Any], filename: str) -> HttpResponse:
    """Word-friendly HTML: the same page as a .doc download (Word and WPS open HTML saved under that name)."""
    html = render_to_string(template, context, request=request)
    response = HttpResponse(html, content_type="application/msword; charset=utf-8")
    response["Content-Disposition"] = download_name(filename)
    return response
