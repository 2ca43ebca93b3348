# One image for web (gunicorn), Celery worker and Celery beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=servicedesk.settings_production
WORKDIR /app

RUN apt-get update && apt-get install -y --no-install-recommends gettext && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml ./
RUN pip install --no-cache-dir "setuptools>=68" && pip install --no-cache-dir -e .
COPY . .
RUN DJANGO_SECRET_KEY=build DJANGO_ALLOWED_HOSTS=build DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    CELERY_BROKER_URL=memory:// python manage.py collectstatic --noinput

RUN useradd --create-home servicedesk
USER servicedesk
EXPOSE 8000
CMD ["gunicorn", "--config", "gunicorn.conf.py", "servicedesk.wsgi:application"]
