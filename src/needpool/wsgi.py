import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "needpool.settings")
application = get_wsgi_application()

# Each gunicorn worker imports this module before it accepts a connection: load what first requests wait for.
from needpool.core.warmup import warm_up, warmup_enabled  # noqa: E402

if warmup_enabled():
    warm_up()
