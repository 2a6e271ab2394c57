# The production image: web (gunicorn), worker and beat all run it (docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=leadpilot.settings.production \
    LEADPILOT_VAR_DIR=/app/var

RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home leadpilot
WORKDIR /app

# The pinned dependencies first: a code change does not reinstall them.
COPY pyproject.toml ./
RUN pip install .

COPY . .
# Static files are collected into the image (whitenoise serves them). Production settings refuse
# to load without their secrets; these placeholders exist only for this build step.
RUN DJANGO_SECRET_KEY=collectstatic-build-step-only \
    DJANGO_ALLOWED_HOSTS=localhost \
    DATABASE_URL=sqlite:////tmp/collectstatic.sqlite3 \
    EMAIL_URL=consolemail:// \
    python manage.py collectstatic --noinput --verbosity 0 \
    && rm -f /tmp/collectstatic.sqlite3 \
    && mkdir -p /app/var/media \
    && chown -R leadpilot:leadpilot /app/var

USER leadpilot
EXPOSE 8000
CMD ["gunicorn", "leadpilot.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "4"]
