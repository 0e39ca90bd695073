# Production image: gunicorn behind whitenoise for static files, run as a non-root user.
FROM python:3.12-slim AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

RUN groupadd --system app && useradd --system --gid app --home-dir /app app

# The whole project: .dockerignore keeps out secrets, local state and what only development
# uses, so a new app needs no line here. CI assembles the same file set and installs, checks,
# migrates and collects it without a Docker engine (.ci/image).
COPY . .
# The code stays root's: the app user writes only the uploads' volumes.
RUN pip install . && rm -rf build ./*.egg-info \
    && mkdir -p /data/media /data/private-media && chown -R app:app /data

# collectstatic needs settings to import: throwaway random keys, never used at run time.
RUN DJANGO_DEBUG=false \
    DJANGO_SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    FERNET_KEYS="$(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')" \
    python manage.py collectstatic --noinput

USER app
ENV MEDIA_ROOT=/data/media \
    PRIVATE_MEDIA_ROOT=/data/private-media \
    DJANGO_DEBUG=false
EXPOSE 8000

CMD ["gunicorn", "oshara.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
