"""What a run reports per row (its action, changes, warnings and cell errors) and the options of a run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class CellError:
    row: int
    column: str
    value: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "value": self.value, "message": self.message}


@dataclass
class RowOutcome:
    row: int
    action: str = ""  # create, update, unchanged, error
    code: str = ""
    changes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[CellError] = field(default_factory=list)
    # What the preview points out so nobody is surprised later: a new requirement that is not standardised
    # ({"kind": "not_standardised", "missing": [...], "message": ...}), a value read by interpretation
    # ({"kind": "interpreted", "column": header, "value": raw, "read_as": ..., "message": ...}).
    flags: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "action": self.action,
            "code": self.code,
            "changes": self.changes,
            "warnings": self.warnings,
            "errors": [e.as_dict() for e in self.errors],
            "flags": self.flags,
        }


class RowFailed(Exception):
    """The row has errors: its writes are rolled back (the savepoint) and the next row is read."""


@dataclass
class ImportOptions:
    create_customers: bool = False  # a customer named in a requirement row that does not exist is created
    apply_status: bool = True  # 当前状态 moves the requirement through the workflow (else only compared)
    needs_to_feedback: bool = True  # 显性/隐性需求 become feedback items in the pool

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImportOptions:
        return cls(**{k: bool(v) for k, v in data.items() if k in cls.__dataclass_fields__})

    def as_dict(self) -> dict[str, bool]:
        return {
            "create_customers": self.create_customers,
            "apply_status": self.apply_status,
            "needs_to_feedback": self.needs_to_feedback,
        }
