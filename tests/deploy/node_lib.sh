# Shared by the production tests (https.sh, backup_restore.sh, openapi_responses.sh):
# a node of the binary under test on a database of its own, signed webhooks, logins.
# Source after lib.sh.

NODE_PID=
# fresh_database NAME: creates NAME on the suite's PostgreSQL; prints its URL.
fresh_database() {
  local base=${ATENDEAI_TEST_DATABASE_URL:?run the suite with deploy/test}
  PGOPTIONS=--client-min-messages=warning "$PG_BIN/psql" -q "$base" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null
  echo "${base%/*}/$1"
}

# The secrets the nodes of a test share.
APP_SECRET=test-app-secret-$RANDOM$RANDOM
JWT_SECRET=test-jwt-secret-$RANDOM-0123456789abcdef0123456789abcdef

# node_exec_ LOG ARGS...: replaces the (sub)shell with `atendeai ARGS`, with the test's
# secrets and var folder (NODE_VAR) and the environment the caller exported.
node_exec_() {
  local log=$1
  shift
  # (The scripts' own ATENDEAI_* settings are no configuration keys: the node would refuse them.)
  exec env -u ATENDEAI_STOP_GRACE_S -u ATENDEAI_BUILD_JOBS \
    ATENDEAI_WHATSAPP_APP_SECRET="$APP_SECRET" ATENDEAI_WHATSAPP_VERIFY_TOKEN=test-verify-token \
    ATENDEAI_AUTH_BCRYPT_COST=4 ATENDEAI_PATHS_VAR_DIR="$NODE_VAR" ATENDEAI_AUTH_JWT_SECRET="$JWT_SECRET" \
    "$NODE_BINARY" "$@" >>"$log" 2>&1
}

# run_node LOG ARGS...: `atendeai ARGS` in the foreground; its exit status.
run_node() { (node_exec_ "$@"); }

# start_node LOG ARGS...: `atendeai serve ARGS` in the background; NODE_PID is the node's pid.
start_node() {
  node_exec_ "$1" serve "${@:2}" &
  NODE_PID=$!
}

# wait_node URL [CURL ARGS...]: until URL answers 200 while the node runs.
wait_node() {
  local url=$1 deadline=$((SECONDS + 90))
  shift
  until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$@" "$url")" = 200 ]; do
    kill -0 "$NODE_PID" 2>/dev/null || fail "the node ended early"
    [ "$SECONDS" -lt "$deadline" ] || fail "the node did not answer $url"
    sleep 0.2
  done
}

# stop_node: SIGTERM and wait (the node drains and exits).
stop_node() {
  [ -n "$NODE_PID" ] || return 0
  kill -TERM "$NODE_PID" 2>/dev/null || true
  wait "$NODE_PID" 2>/dev/null || true
  NODE_PID=
}

# webhook_body WAMID TEXT [FROM]: a WhatsApp notification from a demo clinic patient.
webhook_body() {
  local from=${3:-5511987654321}
  printf '{"object":"whatsapp_business_account","entry":[{"id":"waba","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"5511300000000","phone_number_id":"demo-phone-number-id"},"contacts":[{"profile":{"name":"Paciente"},"wa_id":"%s"}],"messages":[{"from":"%s","id":"%s","timestamp":"%s","type":"text","text":{"body":"%s"}}]}}]}]}' \
    "$from" "$from" "$1" "$(date +%s)" "$2"
}

# post_webhook URL WAMID TEXT [CURL ARGS...]: sends it signed; prints the HTTP status.
post_webhook() {
  local url=$1 body sig
  body=$(webhook_body "$2" "$3")
  shift 3
  sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$APP_SECRET" | awk '{print $NF}')
  curl -s -o /dev/null -w '%{http_code}' --max-time 20 -H "Content-Type: application/json" \
    -H "X-Hub-Signature-256: sha256=$sig" --data-binary "$body" "$@" "$url"
}

# login URL EMAIL PASSWORD: prints an access token.
login() {
  curl -sf --max-time 20 -H 'Content-Type: application/json' \
    -d "{\"email\":\"$2\",\"password\":\"$3\"}" "$1/api/v1/auth/login" | jq -r .access_token
}

# demo_password EMAIL: the demo admin's generated password (var/demo-admins.txt).
demo_password() {
  grep -F "$1" "$NODE_VAR/demo-admins.txt" | grep -oE '[^ :]+$'
}

cleanup_node_() {
  [ -z "$NODE_PID" ] || kill -KILL "$NODE_PID" 2>/dev/null || true
}
