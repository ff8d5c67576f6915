"""``needpool reports_snapshots [--rebuild] [--check]``: list the dashboard snapshots; rebuild them; or recompute
each live and report those that differ by more than their age explains (exit status 1)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from needpool.reports import services
from needpool.reports.models import DashboardSnapshot


class Command(BaseCommand):
    help = "List, check (--check) or rebuild (--rebuild) the kept dashboard snapshots."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help="recompute each snapshot at its own time and compare; exit 1 when one differs with no write since",
        )
        parser.add_argument(
            "--rebuild", action="store_true", help="build the snapshots again now (with --check: those not equal)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["check"]:
            self._check(rebuild=options["rebuild"])
            return
        if options["rebuild"]:
            rebuilt = services.dashboard_snapshots_rebuild()
            for snapshot, built in rebuilt:
                self.stdout.write(f"{'rebuilt' if built else 'skipped':10} {self._line(snapshot)}")
            self.stdout.write(f"{sum(built for _s, built in rebuilt)} of {len(rebuilt)} rebuilt")
            return
        snapshots = list(DashboardSnapshot.objects.order_by("pk"))
        for snapshot in snapshots:
            self.stdout.write(self._line(snapshot))
        self.stdout.write(f"{len(snapshots)} snapshot(s)")

    def _line(self, snapshot: DashboardSnapshot) -> str:
        at = timezone.localtime(snapshot.computed_at).strftime("%Y-%m-%d %H:%M:%S") if snapshot.computed_at else "-"
        return f"#{snapshot.pk} {snapshot.scope_key} {snapshot.filters_key} computed {at} in {snapshot.compute_ms} ms"

    def _check(self, *, rebuild: bool) -> None:
        results = services.dashboard_snapshots_check(rebuild=rebuild)
        for result in results:
            self.stdout.write(f"{result.outcome:10} {self._line(result.snapshot)}")
        wrong = [r for r in results if r.outcome == "differs"]
        self.stdout.write(f"{len(results)} checked, {len(wrong)} differ")
        if wrong:
            raise CommandError(f"{len(wrong)} snapshot(s) differ from a recomputation", returncode=1)
