"""``needpool backup [--output PATH]``: one archive of the database, the attachments and the data files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from needpool.core.backup import BackupError, backup_create, describe


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]  # translated when shown, not at import
        return _("备份数据库、附件和数据文件到一个 tar.gz 归档（站点运行时也可执行）。")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", "-o", help=_("归档路径（默认：数据目录/backups/needpool-<时间>.tar.gz）"))

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = backup_create(output=Path(options["output"]) if options.get("output") else None)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(_("备份完成：%(path)s") % {"path": result.path}))
        self.stdout.write(describe(result.manifest))
