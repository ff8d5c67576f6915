"""``needpool suggest_train``: train the suggestion models now (the same run as the nightly job)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from needpool.suggest.models import ModelKind, SuggestModel
from needpool.suggest.services import models_train


class Command(BaseCommand):
    help = (
        "Train the type, tag and sentiment suggestion models from the classified requirements and feedback, "
        "store them with their held-out accuracy, and use each one that is no worse than the keyword rules."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--kind", action="append", choices=ModelKind.values, help="only this kind (repeatable)")
        parser.add_argument(
            "--if-changed", action="store_true", help="skip kinds whose labelled data did not change since the last run"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        kinds = tuple(options["kind"] or ModelKind.values)
        try:
            results = models_train(kinds=kinds, force=not options["if_changed"])
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        for kind, result in results.items():
            if isinstance(result, SuggestModel):
                state = "in use" if result.is_active else "not used (rules are better)"
                self.stdout.write(
                    f"{kind}: v{result.version}, {result.samples} samples, held-out {result.accuracy:.3f} "
                    f"(rules {result.baseline_accuracy:.3f}), {state}"
                )
            else:
                reason = {"too_few": "too few labelled examples, rules stay in use", "unchanged": "data unchanged"}
                self.stdout.write(f"{kind}: skipped ({reason.get(result, result)})")
