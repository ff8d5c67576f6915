import pytest

from needpool.accounts.models import User
from needpool.cli import main


# Management commands close their database connections when they finish, so this test owns its own.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_needpool_command_maps_its_own_verbs(monkeypatch, capsys):
    monkeypatch.setenv("NEEDPOOL_ADMIN_USER", "root-admin")
    monkeypatch.delenv("NEEDPOOL_ADMIN_PASSWORD", raising=False)
    main(["createadmin"])
    assert "root-admin" in capsys.readouterr().out
    assert User.objects.filter(username="root-admin", is_superuser=True).exists()


def test_needpool_command_passes_django_commands_through(capsys):
    main(["help", "np_serve"])
    assert "NEEDPOOL_PORT" in capsys.readouterr().out


def test_healthz(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"ok": True}
