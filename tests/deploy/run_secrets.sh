#!/usr/bin/env bash
# The operator's secrets win over the generated demo secrets (issue 15): the run command
# started with an app secret, a verify token and a JWT secret in the environment, with a
# var/demo-secrets.env already there, accepts a webhook signed with the operator's app
# secret and refuses one signed with the demo secret, answers Meta's verification
# handshake with the operator's token and not the demo one, signs admin tokens with the
# operator's JWT secret, and uses the operator's data key file (no var/data.key is made).
source "$(dirname "$0")/lib.sh"

dir=$(test_dir run-secrets)
WATCH_DIR=$dir
base=$(free_ports 3)
http=$base pg=$((base + 1)) redis=$((base + 2))
mkdir -p "$dir/var"
demo_secret=demo-app-secret-$RANDOM demo_token=demo-verify-token-$RANDOM
(umask 077; printf 'ATENDEAI_WHATSAPP_APP_SECRET=%s\nATENDEAI_WHATSAPP_VERIFY_TOKEN=%s\nATENDEAI_AUTH_JWT_SECRET=%s\n' \
  "$demo_secret" "$demo_token" "demo-jwt-secret-$RANDOM-0123456789abcdef0123456789" >"$dir/var/demo-secrets.env")
own_secret=operator-app-secret-$RANDOM$RANDOM own_token=operator-verify-token-$RANDOM
own_jwt=operator-jwt-secret-$RANDOM-0123456789abcdef0123456789abcdef
own_key="$dir/operator-data.key"
(umask 077; openssl rand -hex 32 >"$own_key")
export ATENDEAI_HTTP_PORT=$http ATENDEAI_DEV_PG_PORT=$pg ATENDEAI_DEV_REDIS_PORT=$redis ATENDEAI_PATHS_VAR_DIR="$dir/var"

ATENDEAI_WHATSAPP_APP_SECRET=$own_secret ATENDEAI_WHATSAPP_VERIFY_TOKEN=$own_token ATENDEAI_AUTH_JWT_SECRET=$own_jwt \
  ATENDEAI_SECURITY_DATA_KEY_FILE=$own_key start_script "$dir/run.log" "$TEST_ROOT/deploy/run"
up() { curl -sf --max-time 2 -o /dev/null "http://127.0.0.1:$http/health"; }
wait_for 800 up
[ ! -e "$dir/var/data.key" ] || fail "the run command generated a demo data key beside the operator's"
grep -q "data key: $own_key (from the environment)" "$dir/run.log" || fail "the run command did not take the operator's data key"
note "data key: the operator's file, no var/data.key"

say_with() { ATENDEAI_WHATSAPP_APP_SECRET=$1 bash "$TEST_ROOT/deploy/say" "oi" "5511900000$((RANDOM % 1000))"; }
[[ $(say_with "$own_secret") == *"(HTTP 200)"* ]] || fail "a webhook signed with the operator's app secret was refused"
note "signed with the operator's app secret: 200"
[[ $(say_with "$demo_secret") == *"(HTTP 401)"* ]] || fail "a webhook signed with the demo app secret was not refused"
note "signed with the demo app secret: 401"

verify() {
  curl -s -o "$dir/challenge" -w '%{http_code}' \
    "http://127.0.0.1:$http/webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=$1&hub.challenge=challenge-$RANDOM"
}
code=$(verify "$own_token")
[ "$code" = 200 ] && grep -q '^challenge-' "$dir/challenge" || fail "verification with the operator's token: $code"
note "verification with the operator's token: 200 and the challenge"
code=$(verify "$demo_token")
[ "$code" = 403 ] || fail "verification with the demo token answered $code (want 403)"
note "verification with the demo token: 403"

# An admin token, signed (HS256) with the operator's JWT secret.
password=$(awk '$2 == "admin@atendeai.local" { print $3 }' "$dir/var/demo-admins.txt")
[ -n "$password" ] || fail "no demo super admin in $dir/var/demo-admins.txt"
token=$(curl -s -H 'Content-Type: application/json' \
  --data "$(jq -cn --arg p "$password" '{email: "admin@atendeai.local", password: $p}')" \
  "http://127.0.0.1:$http/api/v1/auth/login" | jq -r '.access_token // empty')
[ -n "$token" ] || fail "the demo super admin could not log in"
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
signature=$(printf '%s' "${token%.*}" | openssl dgst -sha256 -hmac "$own_jwt" -binary | b64url)
[ "$signature" = "${token##*.}" ] || fail "the access token is not signed with the operator's JWT secret"
note "access token signed with the operator's JWT secret"

signal_script TERM
check_nothing_left "$dir" "$http" "$pg" "$redis"
