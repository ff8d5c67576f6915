"""``needpool restore PATH [--yes]``: put a site back as an archive of ``needpool backup`` holds it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from needpool.core.backup import BackupError, backup_restore, checked_archive, describe


class Command(BaseCommand):
    @property
    def help(self) -> str:  # type: ignore[override]  # translated when shown, not at import
        return _("从备份归档恢复：覆盖当前数据库、附件和数据文件。恢复前先检查数据库类型和校验和。")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help=_("needpool backup 生成的归档"))
        parser.add_argument("--yes", action="store_true", help=_("不再询问，直接覆盖当前数据"))

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"])
        try:
            with checked_archive(path) as (manifest, _root):
                self.stdout.write(_("备份检查通过：%(about)s") % {"about": describe(manifest)})
            if not options["yes"] and not self._confirmed():
                raise CommandError(_("未恢复：恢复会覆盖当前的数据库和附件。确认无误后请加 --yes 再执行。"))
            backup_restore(path=path)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(_("恢复完成：%(path)s。请重启 Web 服务和后台任务进程。") % {"path": path}))

    def _confirmed(self) -> bool:
        if not sys.stdin.isatty():
            return False
        answer = input(_("恢复将覆盖当前的数据库和全部附件，且不可撤销。输入 yes 继续：")).strip().lower()
        return answer == "yes"
