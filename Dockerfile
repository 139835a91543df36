# Production image: granian serving the application, migrations and deployment at start.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

RUN apt-get update \
    && apt-get install -y --no-install-recommends nodejs npm make \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /srv/app
COPY pyproject.toml README.md Makefile ./
COPY package.json package-lock.json ./
COPY app ./app
COPY migrations ./migrations
COPY bpmn ./bpmn
COPY forms ./forms
# Editable, so that bpmn/, forms/ and migrations/ are found beside the package.
RUN pip install -e . && make vendor translations BIN=/usr/local/bin

RUN useradd --system --home /srv/app appuser && mkdir -p instance && chown appuser instance
USER appuser

ENV DATABASE_URL=sqlite:////srv/app/instance/workflow.sqlite3
EXPOSE 5000
# `setup --no-demo` upgrades the schema, creates the first admin from ADMIN_PASSWORD and deploys
# bpmn/ and forms/; a second container can run `python -m app scheduler run` against PostgreSQL.
# Set WEB_WORKERS to the number of cores: `serve` then runs that many worker processes.
CMD ["sh", "-c", "python -m app setup --no-demo && python -m app serve --host 0.0.0.0 --port 5000"]
