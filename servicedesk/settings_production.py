"""Production settings: the base settings, refusing to start without their secrets."""

from servicedesk.env import env_list, env_str
from servicedesk.settings import *  # noqa: F403
from servicedesk.settings import DEBUG

if DEBUG:
    raise RuntimeError("DJANGO_DEBUG must be off in production")

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", [])
if not ALLOWED_HOSTS:
    raise RuntimeError("DJANGO_ALLOWED_HOSTS is required in production")
env_str("DATABASE_URL")  # no SQLite fallback in production
env_str("CELERY_BROKER_URL")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
