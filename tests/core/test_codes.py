import datetime as dt
import threading

import pytest
from django.db import close_old_connections, connection, transaction

from needpool.core.codes import CodePatternError, next_code, render_prefix, validate_pattern


def test_render_prefix_for_both_house_formats():
    day = dt.date(2024, 3, 1)
    assert render_prefix("DEM{yyyymmdd}{seq:03d}", day) == ("DEM20240301", "", 3)
    assert render_prefix("{yyyymm}-{seq:03d}", day) == ("202403-", "", 3)


@pytest.mark.parametrize("pattern", ["", "ABC", "{seq}{seq}", "X{yy}{seq}", "需求{seq}", "A B{seq}"])
def test_invalid_patterns(pattern):
    with pytest.raises(CodePatternError):
        validate_pattern(pattern)


@pytest.mark.django_db
def test_sequence_is_per_prefix_and_namespace():
    day = dt.date(2024, 3, 1)
    assert next_code("DEM{yyyymmdd}{seq:03d}", day, namespace="r") == "DEM20240301001"
    assert next_code("DEM{yyyymmdd}{seq:03d}", day, namespace="r") == "DEM20240301002"
    assert next_code("DEM{yyyymmdd}{seq:03d}", day + dt.timedelta(days=1), namespace="r") == "DEM20240302001"
    assert next_code("DEM{yyyymmdd}{seq:03d}", day, namespace="other") == "DEM20240301001"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_creation_never_repeats_a_code():
    """Eight threads, each in its own transaction and connection, draw codes at once."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is proven on PostgreSQL (SQLite serialises every writer)")
    from needpool.accounts.models import User
    from needpool.requirements.services import requirement_create

    actor = User.objects.create_user(username="pm", password="x-9-long-enough", role="product_manager")
    codes: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        try:
            barrier.wait(timeout=10)
            for _ in range(5):
                with transaction.atomic():
                    codes.append(requirement_create(actor=actor, title="并发创建").code)
        except BaseException as exc:
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert len(codes) == 40
    assert len(set(codes)) == 40
