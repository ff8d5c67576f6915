"""One handler per layout: read a row, find what it names, and write it through the domain services.

A row's code decides: a code that exists (and the user may see) → update; a new code → create with
that code; no code → create with a new code. On update only the columns present in the sheet are
compared, each against the value the export would write for it (``current``), so exporting and
importing the same sheet changes nothing. Columns that describe where a requirement came from (its
first feedback item: customer, contact, source, submitted at) are set on create and only compared on
update: a difference is a warning, not a change.

Every handler also knows how to turn a record into a row (``export_row``): the export and the
comparison share the same code.

Each layout has its module (``intake``, ``priority``, ``management``, ``relationship``) on a shared base
(``base``: the row handler; ``requirement``: what the requirement layouts share; ``outcomes``,
``lookups`` and ``common``: what a run reports, what it loads once, and the text helpers).
"""

from __future__ import annotations

from needpool.intake.transfer.imports.handlers.base import RowHandler
from needpool.intake.transfer.imports.handlers.common import with_requirement_source
from needpool.intake.transfer.imports.handlers.intake import IntakeRows
from needpool.intake.transfer.imports.handlers.lookups import Lookups
from needpool.intake.transfer.imports.handlers.management import ManagementRows
from needpool.intake.transfer.imports.handlers.outcomes import CellError, ImportOptions, RowFailed, RowOutcome
from needpool.intake.transfer.imports.handlers.priority import PriorityRows
from needpool.intake.transfer.imports.handlers.relationship import RelationshipRows

HANDLERS: dict[str, type[RowHandler]] = {
    handler.layout.key: handler for handler in (IntakeRows, PriorityRows, ManagementRows, RelationshipRows)
}


__all__ = [
    "HANDLERS",
    "CellError",
    "ImportOptions",
    "Lookups",
    "RowFailed",
    "RowHandler",
    "RowOutcome",
    "with_requirement_source",
]
