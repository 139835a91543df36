# syntax=docker/dockerfile:1
# The production image, in three stages: the web pages' front-end assets built with npm, the
# Python packages installed, and a slim runtime with neither compilers nor npm, run as a user
# without privileges. It starts through deploy/entrypoint.sh, as the tests do; compose.yaml runs
# it as the migration, web and scheduler services.

# 1. bpmn-js from package-lock.json, copied where the pages serve it (`make vendor`).
FROM node:20-bookworm-slim AS assets
RUN apt-get update && apt-get install -y --no-install-recommends make && rm -rf /var/lib/apt/lists/*
WORKDIR /build
COPY Makefile package.json package-lock.json ./
RUN make vendor

# 2. The Python packages of pyproject.toml in a virtual environment; the message catalogues.
FROM python:3.11-slim-bookworm AS python
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /srv/app
COPY pyproject.toml ./
RUN python -m venv /opt/venv \
    && python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && /opt/venv/bin/pip install -r /tmp/requirements.txt
COPY app ./app
COPY migrations ./migrations
COPY bpmn ./bpmn
COPY forms ./forms
COPY deploy ./deploy
COPY --from=assets /build/app/web/static/vendor ./app/web/static/vendor
RUN /opt/venv/bin/pybabel compile -d app/web/translations

# 3. The runtime.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    PYTHON=/opt/venv/bin/python \
    APP_ENV=production \
    WEB_HOST=0.0.0.0 \
    WEB_PORT=5000 \
    INSTANCE_PATH=/srv/app/instance
RUN useradd --system --uid 10001 --home-dir /srv/app app
COPY --from=python /opt/venv /opt/venv
COPY --from=python --chown=root:root /srv/app /srv/app
RUN mkdir -p /srv/app/instance && chown app /srv/app/instance
WORKDIR /srv/app
USER app
EXPOSE 5000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('WEB_PORT', '5000')}/readyz\", timeout=2)"]
ENTRYPOINT ["/srv/app/deploy/entrypoint.sh"]
CMD ["web"]
