"""``needpool demo``: load the worked examples (PRODUCT.md §4) and, on request, generated volume."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from needpool.core.dbstats import planner_statistics_refresh
from needpool.demo.examples import load_examples
from needpool.demo.generator import generate
from needpool.demo.users import demo_users_ensure


class Command(BaseCommand):
    help = (
        "Load the worked examples of the product spec (idempotent) as the users demo_pm / demo_sales, "
        "and optionally --requirements N generated requirements with --customers M customers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--requirements", type=int, default=0, help="generated requirements to add (default 0)")
        parser.add_argument(
            "--customers",
            type=int,
            default=None,
            help="generated customers to add (default max(20, requirements // 5); 0 when no requirements)",
        )
        parser.add_argument("--days", type=int, default=730, help="spread submission times over this many days")
        parser.add_argument("--chunk", type=int, default=5000, help="rows per bulk insert transaction")
        parser.add_argument("--seed", type=int, default=None, help="random seed, for repeatable data")
        parser.add_argument("--no-examples", action="store_true", help="skip the worked examples")
        parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["requirements"] < 0 or (options["customers"] or 0) < 0:
            raise CommandError("--requirements and --customers must not be negative")
        users = demo_users_ensure()
        if not options["no_examples"]:
            created = load_examples(users=users)
            if created:
                self.stdout.write(f"示例需求 / worked examples: {', '.join(created)}")
            else:
                self.stdout.write("示例已存在 / worked examples already loaded")
        if options["requirements"] or options["customers"]:
            result = generate(
                requirements=options["requirements"],
                customers=options["customers"],
                users=users,
                seed=options["seed"],
                days=options["days"],
                chunk=options["chunk"],
                progress=None if options["quiet"] else lambda line: print(line, file=sys.stderr, flush=True),
            )
            self.stdout.write(
                f"生成 / generated: {result.customers:,} customers, {result.contacts:,} contacts, "
                f"{result.requirements:,} requirements, {result.feedback:,} feedback items "
                f"in {result.seconds:.1f} s"
            )
            # Bulk-written rows leave the planner guessing until statistics are gathered: gather them now.
            seconds = planner_statistics_refresh()
            if seconds >= 0:
                self.stdout.write(f"统计信息已更新 / planner statistics refreshed in {seconds:.1f} s")
