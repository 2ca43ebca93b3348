"""Production settings: the base settings over HTTPS, refusing to start without their secrets.

With them `manage.py check --deploy` reports no issue (tests/servicedesk/test_deploy_check.py).
Every secret comes from the environment: the secret key, the database's and the broker's
credentials in their URLs, the mail server's password (DJANGO_EMAIL_HOST_PASSWORD).
"""

from django.core.exceptions import ImproperlyConfigured

from servicedesk.env import env_bool, env_int, env_list, env_str
from servicedesk.settings import *  # noqa: F403
from servicedesk.settings import DEBUG, DEVELOPMENT_SECRET_KEY

if DEBUG:
    raise RuntimeError("DJANGO_DEBUG must be off in production")

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY.strip() or SECRET_KEY == DEVELOPMENT_SECRET_KEY:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set to a secret of its own in production")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", [])
if not ALLOWED_HOSTS:
    raise RuntimeError("DJANGO_ALLOWED_HOSTS is required in production")
env_str("DATABASE_URL")  # no SQLite fallback in production
env_str("CELERY_BROKER_URL")

# HTTPS only. Where a reverse proxy ends TLS, DJANGO_SECURE_PROXY_SSL_HEADER names the header
# it sets to "https" (e.g. X-Forwarded-Proto); the proxy must overwrite a client's own.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
_proxy_ssl_header = env_str("DJANGO_SECURE_PROXY_SSL_HEADER", "").strip()
if _proxy_ssl_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 365 * 24 * 3600, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
