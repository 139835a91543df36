#!/bin/sh
# How the server is started: by the image (Dockerfile, compose.yaml) and by the tests
# (tests/test_entrypoint.py), with the same commands.
#
#   deploy/entrypoint.sh migrate     once per release, before the servers start: the schema (under
#                                    a lock: two at once are safe), the groups, the first admin
#                                    (ADMIN_PASSWORD) and the procedures in bpmn/ and forms/
#   deploy/entrypoint.sh web         the HTTP server (WEB_HOST, WEB_PORT, WEB_WORKERS, WEB_THREADS,
#                                    WEB_SCHEDULER); /healthz is liveness, /readyz readiness
#   deploy/entrypoint.sh scheduler   fires timers as they come due (several may run on PostgreSQL)
#   deploy/entrypoint.sh ARGS...     any other `python -m app` command (backup, users, ...)
#
# The settings come from the environment (see the README's "Deploying"). PYTHON names the
# interpreter; by default the project's .venv when there is one, else python3.
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ -z "${PYTHON:-}" ]; then
  if [ -x "$root/.venv/bin/python" ]; then PYTHON="$root/.venv/bin/python"; else PYTHON=python3; fi
fi
cd "$root"
command="${1:-web}"
[ "$#" -gt 0 ] && shift
case "$command" in
  migrate) exec "$PYTHON" -m app migrate "$@" ;;
  web) exec "$PYTHON" -m app web "$@" ;;
  scheduler) exec "$PYTHON" -m app scheduler run "$@" ;;
  *) exec "$PYTHON" -m app "$command" "$@" ;;
esac
