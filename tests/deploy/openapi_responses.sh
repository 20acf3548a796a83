#!/usr/bin/env bash
# Real responses against the contract (issue 24): a demo node driven through every
# family of routes (tests/deploy/openapi_responses.mjs), each response's status, content
# type and body validated against api/openapi.yaml.
#   openapi_responses.sh BINARY
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.sh"
NODE_BINARY=${1:?binary}
TOOLS=${ATENDEAI_TEST_TOOLS:-$TEST_ROOT/build/tools}
dir=$(test_dir openapi)
NODE_VAR=$dir/var
mkdir -p "$NODE_VAR"
trap 'cleanup_node_; cleanup_test_' EXIT
export ATENDEAI_DATABASE_URL ATENDEAI_REDIS_URL=$ATENDEAI_TEST_REDIS_URL ATENDEAI_CLUSTER_NAME=openapi-$RANDOM
ATENDEAI_DATABASE_URL=$(fresh_database "openapi_$RANDOM")
port=$(free_ports 1)
start_node "$dir/node.log" --http-port "$port" --auth-rate-auth-per-minute 1000
wait_node "http://127.0.0.1:$port/health"
(cd "$TOOLS" && node "$TEST_ROOT/tests/deploy/openapi_responses.mjs" "$TEST_ROOT/api/openapi.yaml" "http://127.0.0.1:$port" \
  admin@atendeai.local "$(demo_password admin@atendeai.local)" \
  admin@clinica-exemplo.local "$(demo_password admin@clinica-exemplo.local)" "$APP_SECRET") ||
  { tail -n 20 "$dir/node.log" >&2; fail "responses do not match api/openapi.yaml"; }
stop_node
