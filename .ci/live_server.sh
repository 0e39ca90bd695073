# Sourced by .ci/fuzz and .ci/client: a production-like server (gunicorn, DEBUG off) on a
# throwaway database, removed again on exit. The caller sets DB_URL, PORT and PY first.
# shellcheck shell=bash
BASE="http://127.0.0.1:${PORT}"
WORK="$(mktemp -d -t oshara-ci.XXXXXX)"
SERVER_PID=""

recreate_database() {
  case "$DB_URL" in
    postgres*://*)
      local name="${DB_URL##*/}" admin="${DB_URL%/*}/postgres"
      psql -q "$admin" -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)"
      [ "${1:-}" = drop ] || psql -q "$admin" -c "CREATE DATABASE \"$name\""
      ;;
    sqlite:///*) rm -f "${DB_URL#sqlite:///}" ;;
  esac
}

cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  recreate_database drop || true
  rm -rf "$WORK"
}
trap cleanup EXIT

export DATABASE_URL="$DB_URL"
export DJANGO_DEBUG=false
export DJANGO_SECRET_KEY="ci-$(head -c 48 /dev/urandom | base64 | tr -d '/+=')"
export FERNET_KEYS="$($PY -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
export DJANGO_SECURE_SSL_REDIRECT=false
export MEDIA_ROOT="$WORK/media"
export PRIVATE_MEDIA_ROOT="$WORK/private-media"
export API_DOCS_PUBLIC=true
# Abuse limits would turn most generated requests into 429s; tests/test_throttling.py covers them.
export API_THROTTLE_RATE=1000000/minute AUTH_THROTTLE_RATE=1000000/minute
export API_KEY_FAILURE_THROTTLE_RATE=1000000/minute SESSION_THROTTLE_RATE=1000000/minute
export WIDGET_THROTTLE_RATE=1000000/minute
export FORM_RESPONSE_THROTTLE_RATE=1000000/minute FORM_RESPONSE_SESSION_THROTTLE_RATE=1000000/minute
# Calls configured (with made-up LiveKit credentials: tokens are minted locally), so session
# start and the worker endpoints reach their 200 branches.
export LIVEKIT_URL=wss://livekit.invalid LIVEKIT_API_KEY=APIci
export LIVEKIT_API_SECRET="ci-$(head -c 32 /dev/urandom | base64 | tr -d '/+=')"
export AGENT_WORKER_KEY="ci-worker-$(head -c 32 /dev/urandom | base64 | tr -d '/+=')"
export MAX_CONCURRENT_SESSIONS=0
unset REDIS_URL  # one server process: the in-process cache is enough and leaves no state

start_server() {
  recreate_database
  $PY manage.py migrate --noinput -v 0
  # One process with threads: an in-process cache stays coherent across requests. No limit
  # on the request line: the fuzzer sends very long query strings, and gunicorn's own 414
  # for them is a property of the proxy in front, not of the application under test.
  LOG_LEVEL=ERROR $PY -m gunicorn oshara.wsgi:application --bind "127.0.0.1:${PORT}" \
    --workers 1 --threads 4 --timeout 60 --limit-request-line 0 \
    --access-logfile "$WORK/access.log" --access-logformat '%(m)s %(U)s %(s)s' \
    >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 60); do
    curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
    sleep 0.5
  done
  curl -fsS "$BASE/healthz" >/dev/null
  curl -fsS "$BASE/api/schema/?format=json" -o "$WORK/schema.json"
}

# Non-zero (and the log shown) when the server logged an unhandled error.
server_errors() {
  if grep -q "Traceback\|Internal Server Error\|Unhandled error" "$WORK/server.log"; then
    echo "=== server log (errors)" >&2
    cat "$WORK/server.log" >&2
    return 1
  fi
}
