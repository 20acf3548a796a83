#!/usr/bin/env bash
# The README's run command itself, as a user runs it, on the release build: `bash
# deploy/run` (private ports and var folder) serves /health "ok" with the demo data key it
# generated (var/data.key: 64 hex digits, mode 0600), a webhook sent with
# deploy/say is answered at the local sink, the test-only route POST /test/clock does
# not exist (404: release builds have no test hooks), and Ctrl-C (SIGINT to its process
# group) stops the node, PostgreSQL and Redis.
source "$(dirname "$0")/lib.sh"

dir=$(test_dir run-smoke)
WATCH_DIR=$dir
base=$(free_ports 3)
http=$base pg=$((base + 1)) redis=$((base + 2))
export ATENDEAI_HTTP_PORT=$http ATENDEAI_DEV_PG_PORT=$pg ATENDEAI_DEV_REDIS_PORT=$redis ATENDEAI_PATHS_VAR_DIR="$dir/var"

start_script "$dir/run.log" "$TEST_ROOT/deploy/run"
health_ok() { curl -sf --max-time 2 "http://127.0.0.1:$http/health" | jq -e '.status == "ok"' >/dev/null 2>&1; }
wait_for 800 health_ok
note "/health: $(curl -s "http://127.0.0.1:$http/health" | jq -c '{status, version}')"
key_mode=$(stat -c %a "$dir/var/data.key" 2>/dev/null) || fail "the run command generated no data key in var/"
[ "$key_mode" = 600 ] || fail "the demo data key has mode $key_mode (want 600)"
grep -Eqx '[0-9a-f]{64}' "$dir/var/data.key" || fail "the demo data key is not 64 hex digits"
note "demo data key: var/data.key, mode 600"
secrets_mode=$(stat -c %a "$dir/var/demo-secrets.env" 2>/dev/null) || fail "the run command generated no demo secrets"
[ "$secrets_mode" = 600 ] || fail "the demo secrets file has mode $secrets_mode (want 600)"

wa_id="55119$(printf '%08d' $((RANDOM * 32768 + RANDOM)) | cut -c1-8)"
said=$(bash "$TEST_ROOT/deploy/say" "oi, quais os horários de vocês?" "$wa_id")
note "deploy/say: $said"
[[ $said == *"(HTTP 200)"* ]] || fail "the webhook was not accepted: $said"
answered() { [ -f "$dir/var/outbox-sink.jsonl" ] &&
  jq -e --arg to "$wa_id" 'select(.to == $to) | .message.text | length > 0' "$dir/var/outbox-sink.jsonl" >/dev/null 2>&1; }
wait_for 60 answered
note "reply at the sink: $(jq -c --arg to "$wa_id" 'select(.to == $to) | .message.text' "$dir/var/outbox-sink.jsonl" | head -c 160)"

clock=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
  --data '{"advance_s":60}' "http://127.0.0.1:$http/test/clock")
[ "$clock" = 404 ] || fail "POST /test/clock answered $clock on the release build (want 404)"
note "POST /test/clock: 404"

# SMOKE_HOLD_S keeps the node serving that long before the stop, so that a test of
# deploy/test's own signal handling (script_signals.sh test) catches the whole nested chain
# running (not an ATENDEAI_ variable: the node refuses unknown ones).
if [ -n "${SMOKE_HOLD_S:-}" ]; then
  note "holding the node for ${SMOKE_HOLD_S}s"
  touch "${SMOKE_HOLD_MARK:-/dev/null}" 2>/dev/null || true
  sleep "$SMOKE_HOLD_S"
fi

signal_script INT
check_nothing_left "$dir" "$http" "$pg" "$redis"
