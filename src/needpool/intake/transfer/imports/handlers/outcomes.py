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
    # How each column of an existing record compares with the sheet: {"column": header, "key": column key,
    # "old": shown, "new": shown, "applied": bool, "reason": why (not) applied} (see RowHandler.decide).
    diffs: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "action": self.action,
            "code": self.code,
            "changes": self.changes,
            "warnings": self.warnings,
            "errors": [e.as_dict() for e in self.errors],
            "flags": self.flags,
            "diffs": self.diffs,
        }


class RowFailed(Exception):
    """The row has errors: its writes are rolled back (the savepoint) and the next row is read."""


# How a column of the sheet updates an existing record (the update policy, chosen per column):
FILL = "fill"  # only an empty field of the record is filled (the default)
OVERWRITE = "overwrite"  # the sheet's value replaces the record's (never by a shortened text: is_shortened)
SKIP = "skip"  # the column is not used to update existing records
UPDATE_POLICIES = (FILL, OVERWRITE, SKIP)


@dataclass
class ImportOptions:
    create_customers: bool = False  # a customer named in a requirement row that does not exist is created
    apply_status: bool = True  # 当前状态 moves the requirement through the workflow (else only compared)
    needs_to_feedback: bool = True  # 显性/隐性需求 become feedback items in the pool
    # column key → FILL, OVERWRITE or SKIP; a column not named here is filled (see ``policy``)
    update_policy: dict[str, str] = field(default_factory=dict)

    def policy(self, key: str, default: str = FILL) -> str:
        """How column ``key`` updates an existing record."""
        chosen = self.update_policy.get(key)
        return chosen if chosen in UPDATE_POLICIES else default

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImportOptions:
        flags = {k: bool(v) for k, v in data.items() if k in cls.__dataclass_fields__ and k != "update_policy"}
        policy = data.get("update_policy")
        chosen = {str(k): str(v) for k, v in policy.items() if v in UPDATE_POLICIES} if isinstance(policy, dict) else {}
        return cls(**flags, update_policy=chosen)

    def as_dict(self) -> dict[str, Any]:
        return {
            "create_customers": self.create_customers,
            "apply_status": self.apply_status,
            "needs_to_feedback": self.needs_to_feedback,
            "update_policy": dict(self.update_policy),
        }
