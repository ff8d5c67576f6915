"""Background jobs of the intake app (huey discovers each app's ``tasks`` module)."""

from needpool.intake.mailin.tasks import mail_poll_all_job, mail_poll_job
from needpool.intake.transfer.tasks import import_files_cleanup_job, import_preview_job, import_run_job

__all__ = ["import_files_cleanup_job", "import_preview_job", "import_run_job", "mail_poll_all_job", "mail_poll_job"]
