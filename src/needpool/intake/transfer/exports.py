"""Export a filtered list in one of the four sheet layouts, as XLSX or CSV, so that it imports back unchanged.

The rows come from the permission-scoped selectors with the list page's filters and are read in
chunks of CHUNK with a fixed number of queries per chunk (no per-row queries). Each row is produced
by the layout's import handler (``export_row``): export and import compare the same values.

* CSV streams (StreamingHttpResponse), any size, UTF-8 with a BOM so Excel opens Chinese text
  correctly. Text that Excel would run as a formula (= + - @) gets a leading apostrophe, which the
  import drops again.
* XLSX is written with openpyxl's write-only mode to a temporary file and sent when done; dates are
  real date cells. It is refused above NEEDPOOL_EXPORT_XLSX_MAX_ROWS rows (50,000 by default, about
  25 s on a loaded 2-core machine, well inside the web server's 120 s) — the page then offers the CSV,
  which streams any size (bench/README.md has the speeds).
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header

from needpool.accounts.models import User
from needpool.core.sheets import csv_text, neutral_text
from needpool.customers.models import Contact, Customer, Interaction
from needpool.customers.permissions import customer_scope
from needpool.customers.selectors import customer_list, interaction_list
from needpool.intake.transfer.imports.handlers import HANDLERS, with_requirement_source
from needpool.intake.transfer.imports.layouts import LAYOUTS, RELATIONSHIP, Layout
from needpool.intake.transfer.imports.values import display
from needpool.requirements.models import ClassOption, Feedback, Requirement
from needpool.requirements.selectors import requirement_list

CHUNK = 2000
REQUIREMENT_LAYOUTS = ("intake", "priority", "management")
FORMATS = ("xlsx", "csv")


def xlsx_max_rows() -> int:
    return int(getattr(settings, "NEEDPOOL_EXPORT_XLSX_MAX_ROWS", 50_000))


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


# ---------------------------------------------------------------- records


def _scoped_feedback(user: User | AnonymousUser) -> QuerySet[Feedback]:
    scope = customer_scope(user, prefix="customer__")
    base = Feedback.objects.all() if scope is None else Feedback.objects.filter(scope | Q(customer__isnull=True))
    return base.select_related("customer", "contact").order_by("received_at", "id")


def requirement_queryset(*, user: User | AnonymousUser, filters: Any, layout: str) -> QuerySet[Requirement]:
    """The list page's requirements (same filters, same sort, same permission scope) with what a row needs."""
    qs = (
        requirement_list(user=user, filters=filters)
        .prefetch_related(None)
        .select_related(None)
        .defer(None)
        .defer("search_text", "background", "concrete_ask")
    )
    # Only what the layout's columns show: each joined or prefetched row is a model built per requirement.
    if layout == "priority":
        return qs.select_related("analysis")
    qs = qs.prefetch_related(Prefetch("feedback_items", queryset=_scoped_feedback(user), to_attr="export_feedback"))
    if layout == "management":
        return qs.select_related("type", "urgency", "status", "owner")
    return qs.select_related("type").prefetch_related(
        Prefetch("tags", queryset=ClassOption.objects.order_by("sort_order", "id"))
    )


def requirement_records(*, user: User | AnonymousUser, filters: Any, layout: str) -> Iterator[Requirement]:
    yield from requirement_queryset(user=user, filters=filters, layout=layout).iterator(chunk_size=CHUNK)


def _first_contacts(customer_ids: list[int]) -> dict[int, Contact]:
    first: dict[int, Contact] = {}
    for contact in Contact.objects.filter(customer_id__in=customer_ids).order_by("customer_id", "id"):
        first.setdefault(contact.customer_id, contact)
    return first


def _interaction_feedback() -> QuerySet[Feedback]:
    """What a relationship row reads of an interaction's feedback: importance, and which asks are implicit."""
    return with_requirement_source(Feedback.objects.only("id", "interaction_id", "importance", "raw_text"))


def _interactions_with_feedback() -> QuerySet[Interaction]:
    return Interaction.objects.select_related("contact").prefetch_related(
        Prefetch("feedback", queryset=_interaction_feedback(), to_attr="export_feedback")
    )


def customer_queryset(*, user: User | AnonymousUser, filters: dict[str, Any]) -> QuerySet[Customer]:
    latest = Interaction.objects.filter(customer=OuterRef("pk")).order_by("-occurred_at", "-id").values("id")[:1]
    return customer_list(user=user, **filters).annotate(latest_interaction_id=Subquery(latest))


def customer_records(
    *, user: User | AnonymousUser, filters: dict[str, Any]
) -> Iterator[tuple[Customer, Contact | None, Interaction | None]]:
    """Each customer with its latest interaction and that interaction's contact (else its first contact)."""
    for chunk in _chunks(customer_queryset(user=user, filters=filters).iterator(chunk_size=CHUNK), CHUNK):
        ids = [c.latest_interaction_id for c in chunk if c.latest_interaction_id]
        interactions = {i.pk: i for i in _interactions_with_feedback().filter(pk__in=ids)}
        contacts = _first_contacts([c.pk for c in chunk])
        for customer in chunk:
            interaction = interactions.get(customer.latest_interaction_id)
            contact = interaction.contact if interaction and interaction.contact else contacts.get(customer.pk)
            yield customer, contact, interaction


def interaction_queryset(*, user: User | AnonymousUser, filters: dict[str, Any]) -> QuerySet[Interaction]:
    customers = customer_list(user=user, **filters).order_by()
    return (
        interaction_list(user=user)
        .filter(customer__in=customers.values("pk"))
        .select_related("customer__owner", "contact")
        .prefetch_related(Prefetch("feedback", queryset=_interaction_feedback(), to_attr="export_feedback"))
        .order_by("customer_id", "occurred_at", "id")
    )


def interaction_records(
    *, user: User | AnonymousUser, filters: dict[str, Any]
) -> Iterator[tuple[Customer, Contact | None, Interaction | None]]:
    """Every interaction of the filtered customers, one row each, with its customer and contact."""
    for interaction in interaction_queryset(user=user, filters=filters).iterator(chunk_size=CHUNK):
        yield interaction.customer, interaction.contact, interaction


def export_rows(layout: Layout, records: Iterable[Any]) -> Iterator[list[Any]]:
    """The header row (in the active language), then one row per record in the layout's column order."""
    handler = HANDLERS[layout.key]
    keys = [column.key for column in layout.columns]
    yield layout.headers()
    for record in records:
        row = handler.export_row(record)
        yield [row.get(key) for key in keys]


# ---------------------------------------------------------------- files


def _filename(layout: Layout, extension: str) -> str:
    return f"{layout.name}-{timezone.localtime():%Y%m%d-%H%M}.{extension}"


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return display(value)
    return csv_text(str(value))


def csv_response(layout: Layout, records: Iterable[Any]) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff"
        for row in export_rows(layout, records):
            yield writer.writerow([csv_cell(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, _filename(layout, "csv"))
    return response


def write_xlsx(layout: Layout, records: Iterable[Any], target: Any) -> int:
    """Write the sheet into ``target`` (a path or a binary file); returns the number of data rows."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(layout.name)[:31])
    sheet.freeze_panes = "A2"
    font = Font(bold=True, color="FFFFFF")
    fill = PatternFill("solid", fgColor="206BC4")
    alignment = Alignment(vertical="center", wrap_text=True)
    count = -1
    for row in export_rows(layout, records):
        if count < 0:
            for index, title in enumerate(row, start=1):
                sheet.column_dimensions[get_column_letter(index)].width = max(12, min(40, len(str(title)) * 2 + 4))
            cells: list[Any] = []
            for title in row:
                cell = WriteOnlyCell(sheet, value=title)
                cell.font, cell.fill, cell.alignment = font, fill, alignment
                cells.append(cell)
            sheet.append(cells)
        else:
            values: list[Any] = []
            for value in row:
                if isinstance(value, str):
                    value, risky = neutral_text(value)
                    if risky:
                        cell = WriteOnlyCell(sheet, value=value)
                        cell.data_type = "s"  # text, not a formula
                        cell.quotePrefix = True
                        value = cell
                values.append(value)
            sheet.append(values)
        count += 1
    workbook.save(target)
    return max(count, 0)


def xlsx_response(layout: Layout, records: Iterable[Any]) -> FileResponse:
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it when sent
    write_xlsx(layout, records, handle)
    handle.seek(0)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=_filename(layout, "xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def layout_for(kind: str, layout: str = "") -> Layout:
    if kind == "requirements":
        return LAYOUTS[layout if layout in REQUIREMENT_LAYOUTS else "intake"]
    return RELATIONSHIP
