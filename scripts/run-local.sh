#!/usr/bin/env bash
# Serves the app on its embedded defaults with a Celery worker and beat beside it (one process,
# SQLite broker), and stops both on Ctrl-C.
set -euo pipefail
host="${1:-127.0.0.1}"
port="${2:-5000}"
cd "$(dirname "$0")/.."
.venv/bin/celery -A workers worker -B --loglevel=INFO --pool=solo --without-mingle --without-gossip \
  --schedule instance/celerybeat-schedule &
worker=$!
trap 'kill $worker 2>/dev/null; wait $worker 2>/dev/null' EXIT INT TERM
.venv/bin/flask --app wsgi run --host "$host" --port "$port"
