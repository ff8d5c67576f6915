import contextlib
from typing import Any

from django.apps import AppConfig
from django.urls import register_converter
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "needpool.core"
    label = "core"
    verbose_name = _("基础")

    def ready(self) -> None:
        from needpool.core import messages
        from needpool.core.validation import IdConverter

        # Every form's default messages name the field and the rule (needpool.core.messages).
        messages.install()

        # ``<id:pk>`` in every app's routes: an id beyond what the database stores is a 404, not a 500.
        register_converter(IdConverter, "id")

        # The tokenizer's dictionary loads when a process starts, not on the first search or create.
        from needpool.core.warmup import register_warmup

        register_warmup("jieba", _load_jieba)
        register_warmup("url routes", _load_routes)
        register_warmup("templates", _compile_templates)

        from django.core import checks

        from needpool.core.sqlite_library import check_sqlite_library

        checks.register(check_sqlite_library)

        from django.db.backends.signals import connection_created

        connection_created.connect(_sqlite_parameter_limit, dispatch_uid="needpool.sqlite_parameter_limit")


SQLITE_DEFAULT_PARAMETERS = 32_766


def _sqlite_parameter_limit(sender: Any, connection: Any, **kwargs: Any) -> None:
    """Django assumes SQLite takes 999 parameters per statement (the limit before SQLite 3.32); the library this
    process loaded says what it takes (32,766 since 3.32), so a bulk insert of an import's rows needs ~30 times
    fewer statements."""
    if connection.vendor != "sqlite":
        return
    import sqlite3

    getlimit = getattr(connection.connection, "getlimit", None)
    # pysqlite3 (the SQLite the project builds) has no getlimit(): SQLite's own default since 3.32 applies.
    limit = getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) if getlimit else SQLITE_DEFAULT_PARAMETERS
    if limit > connection.features.max_query_params:
        connection.features.max_query_params = limit


def _load_routes() -> None:
    """Import every view module and build the reverse lookup table in each language (the first request and the
    first ``{% url %}`` of each language would do it otherwise: ~1 s)."""
    from django.conf import settings
    from django.urls import NoReverseMatch, URLResolver, get_resolver, reverse
    from django.utils import translation

    def namespaces(resolver: URLResolver, prefix: str = "") -> list[str]:
        found = []
        for name, (_pattern, child) in resolver.namespace_dict.items():
            found.append(f"{prefix}{name}:")
            found.extend(namespaces(child, f"{prefix}{name}:"))
        return found

    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            root = get_resolver()
            for namespace in ["", *namespaces(root)]:
                # A name no route has: the lookup builds every table on its way, then finds nothing.
                with contextlib.suppress(NoReverseMatch):
                    reverse(f"{namespace}needpool-warm-up")


def _compile_templates() -> None:
    """Compile the project's templates into the cached loader (each would be parsed on its first render)."""
    from pathlib import Path

    from django.conf import settings
    from django.template import TemplateSyntaxError, engines

    django_engine = engines["django"]
    templates: Any = settings.TEMPLATES
    directories: list[Any] = list(templates[0]["DIRS"])
    for directory in directories:
        root = Path(directory)
        for path in root.rglob("*.html"):
            try:
                django_engine.get_template(path.relative_to(root).as_posix())
            except TemplateSyntaxError:  # pragma: no cover - a broken template fails its own page's tests
                continue


def _load_jieba() -> None:
    import jieba

    jieba.initialize()
