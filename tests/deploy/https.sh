#!/usr/bin/env bash
# HTTPS both ways a clinic group runs it (issue 24), with a self-signed certificate made
# here and curl / openssl s_client:
#   1. the node's own TLS listener (http.tls_cert, http.tls_key): /health and the API
#      contract over HTTPS, TLS 1.3 and 1.2 accepted, 1.1 and plain HTTP refused; a key
#      that is not the certificate's, or a missing one, stops the node with exit code 2
#      naming the key;
#   2. deploy/haproxy/haproxy.cfg in front of a plain-HTTP node: HTTPS with HSTS, HTTP
#      redirected to HTTPS except /health, a signed webhook answered 200 through it,
#      HAProxy's own metrics.
#   https.sh BINARY
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.sh"
NODE_BINARY=${1:?binary}
dir=$(test_dir https)
NODE_VAR=$dir/var
mkdir -p "$NODE_VAR"
HAPROXY_PID=
trap 'cleanup_node_; [ -z "$HAPROXY_PID" ] || kill -KILL "$HAPROXY_PID" 2>/dev/null || true; cleanup_test_' EXIT

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other -keyout "$dir/other.key" -out "$dir/other.pem" 2>/dev/null
chmod 600 "$dir/key.pem" "$dir/other.key"
cat "$dir/cert.pem" "$dir/key.pem" >"$dir/both.pem"
export ATENDEAI_DATABASE_URL ATENDEAI_REDIS_URL=$ATENDEAI_TEST_REDIS_URL ATENDEAI_CLUSTER_NAME=https-$RANDOM
ATENDEAI_DATABASE_URL=$(fresh_database "https_$RANDOM")
port=$(free_ports 5)

note "1. the node's own HTTPS listener on $port"
start_node "$dir/tls.log" --http-port "$port" --http-tls-cert "$dir/cert.pem" --http-tls-key "$dir/key.pem"
https="https://localhost:$port"
wait_node "$https/health" --cacert "$dir/cert.pem"
body=$(curl -sS --cacert "$dir/cert.pem" "$https/health")
[ "$(jq -r .status <<<"$body")" = ok ] || fail "/health over HTTPS: $body"
curl -sS --cacert "$dir/cert.pem" -o "$dir/served.yaml" -w '%{http_code} %{content_type}\n' "$https/api/v1/openapi.yaml" >"$dir/head"
[ "$(cat "$dir/head")" = "200 application/yaml" ] || fail "openapi.yaml over HTTPS: $(cat "$dir/head")"
cmp -s "$dir/served.yaml" "$TEST_ROOT/api/openapi.yaml" || fail "the served contract is not api/openapi.yaml"
note "/health and /api/v1/openapi.yaml over HTTPS: 200, the contract byte for byte"
for v in tls1_3 tls1_2; do
  out=$(openssl s_client -connect "127.0.0.1:$port" -servername localhost -CAfile "$dir/cert.pem" "-$v" </dev/null 2>&1) || true
  grep -q "Verify return code: 0 (ok)" <<<"$out" || { echo "$out" | tail -20; fail "openssl s_client -$v"; }
  note "openssl s_client -$v: $(grep -m1 '^New, ' <<<"$out"), certificate verified"
done
# (-cipher @SECLEVEL=0: OpenSSL 3's client would not even offer TLS 1.1 otherwise.)
if openssl s_client -connect "127.0.0.1:$port" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' </dev/null >"$dir/tls11" 2>&1 && grep -q "Cipher is [A-Z]" "$dir/tls11"; then
  fail "TLS 1.1 was accepted"
fi
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$port/health" || true)
[ "$code" != 200 ] || fail "plain HTTP answered on the TLS listener"
note "TLS 1.1 and plain HTTP refused"
[ "$(post_webhook "$https/webhooks/whatsapp" "wamid.https.$RANDOM" "oi" --cacert "$dir/cert.pem")" = 200 ] ||
  fail "a signed webhook over HTTPS was not answered 200"
stop_node

status=0
run_node "$dir/wrong.log" serve --http-port "$port" --http-tls-cert "$dir/cert.pem" --http-tls-key "$dir/other.key" ||
  status=$?
[ "$status" = 2 ] && grep -q "http.tls_key" "$dir/wrong.log" || { cat "$dir/wrong.log"; fail "a mismatched key: exit $status"; }
status=0
run_node "$dir/half.log" serve --http-port "$port" --http-tls-cert "$dir/cert.pem" || status=$?
[ "$status" = 2 ] && grep -q "http.tls_key" "$dir/half.log" || { cat "$dir/half.log"; fail "a certificate without key: exit $status"; }
note "a key that is not the certificate's, or none: exit 2 naming http.tls_key"

note "2. HAProxy (deploy/haproxy/haproxy.cfg) in front of a plain-HTTP node"
start_node "$dir/plain.log" --http-port "$((port + 1))"
wait_node "http://127.0.0.1:$((port + 1))/health"
LB_CERT=$dir/both.pem LB_BIND=127.0.0.1 LB_HTTP_PORT=$((port + 2)) LB_HTTPS_PORT=$((port + 3)) \
  LB_STATS_BIND=127.0.0.1:$((port + 4)) LB_NODE1=127.0.0.1:$((port + 1)) LB_NODE2=127.0.0.1:$((port + 1)) \
  LB_NODE3=127.0.0.1:$((port + 1)) haproxy -db -f "$TEST_ROOT/deploy/haproxy/haproxy.cfg" >"$dir/haproxy.log" 2>&1 &
HAPROXY_PID=$!
lb="https://localhost:$((port + 3))"
deadline=$((SECONDS + 30))
until [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$dir/cert.pem" "$lb/health")" = 200 ]; do
  kill -0 "$HAPROXY_PID" 2>/dev/null || { cat "$dir/haproxy.log"; fail "HAProxy ended"; }
  [ "$SECONDS" -lt "$deadline" ] || { cat "$dir/haproxy.log"; fail "HAProxy did not serve /health"; }
  sleep 0.3
done
curl -sS -D "$dir/lb.headers" -o "$dir/lb.body" --cacert "$dir/cert.pem" "$lb/health"
[ "$(jq -r .status "$dir/lb.body")" = ok ] || fail "/health through HAProxy: $(cat "$dir/lb.body")"
grep -qi '^strict-transport-security: max-age=63072000' "$dir/lb.headers" || fail "no HSTS header: $(cat "$dir/lb.headers")"
note "HTTPS through HAProxy: /health 200 with HSTS"
redirect=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "http://127.0.0.1:$((port + 2))/api/v1/openapi.yaml")
[ "$redirect" = "301 https://127.0.0.1:$((port + 2))/api/v1/openapi.yaml" ] || fail "HTTP to HTTPS redirect: $redirect"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$((port + 2))/health")" = 200 ] ||
  fail "/health over plain HTTP was not passed through"
note "plain HTTP: 301 to HTTPS, /health passed through (200)"
[ "$(post_webhook "$lb/webhooks/whatsapp" "wamid.lb.$RANDOM" "oi" --cacert "$dir/cert.pem")" = 200 ] ||
  fail "a signed webhook through HAProxy was not answered 200"
note "a signed webhook through HAProxy: 200"
if openssl s_client -connect "127.0.0.1:$((port + 3))" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' </dev/null >"$dir/lb11" 2>&1 && grep -q "Cipher is [A-Z]" "$dir/lb11"; then
  fail "HAProxy accepted TLS 1.1"
fi
active() { curl -sf "http://127.0.0.1:$((port + 4))/metrics" | grep '^haproxy_backend_active_servers{proxy="nodes"}' || true; }
deadline=$((SECONDS + 20))
until [ "$(active | awk '{print $2}')" = 3 ]; do
  [ "$SECONDS" -lt "$deadline" ] || fail "HAProxy's metrics do not show the three servers up: $(active)"
  sleep 0.5
done
note "HAProxy refuses TLS 1.1 and reports 3 servers up at /metrics"
kill -TERM "$HAPROXY_PID"; wait "$HAPROXY_PID" 2>/dev/null || true; HAPROXY_PID=
stop_node
