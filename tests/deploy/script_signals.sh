#!/usr/bin/env bash
# script_signals.sh SCRIPT INT|TERM|HUP|fail: every script that starts services stops
# all of them (issues 15 and 25): started in a session of its own, SCRIPT gets the signal
# on its process group once what it starts is up (or one of its steps fails), and must
# end within seconds leaving nothing running.
#   run            deploy/run: node, PostgreSQL, Redis
#   local-cluster  deploy/local-cluster: three connected nodes, HAProxy, PostgreSQL, Redis
#   test           deploy/test running the run command's smoke test: its PostgreSQL and
#                  Redis, ctest, the test, and the deploy/run that test started
#   services       deploy/services start pg (interrupted while it starts PostgreSQL)
#   bench          bench/run quick throughput: its PostgreSQL, Redis, sink, node and load
#                  generator (signalled while the generator runs; a failing step: an
#                  unknown scenario once the services run)
source "$(dirname "$0")/lib.sh"
script=$1 mode=$2
dir=$(test_dir "$script-$mode")
WATCH_DIR=$dir
case $mode in INT | TERM | HUP | fail) ;; *) fail "mode: INT, TERM, HUP or fail" ;; esac

# finish [PORT...]: the signal (or the failing step, which ends the script by itself), then
# the checks.
finish() {
  if [ "$mode" = fail ]; then
    wait_script_end 90
    note "the script failed with status $SCRIPT_STATUS after ${STOP_SECONDS}s"
    [ "$SCRIPT_STATUS" != 0 ] || fail "the script succeeded"
  else
    signal_script "$mode"
  fi
  check_nothing_left "$dir" "$@"
}

case $script in
run)
  base=$(free_ports 3)
  http=$base pg=$((base + 1)) redis=$((base + 2))
  export ATENDEAI_HTTP_PORT=$http ATENDEAI_DEV_PG_PORT=$pg ATENDEAI_DEV_REDIS_PORT=$redis ATENDEAI_PATHS_VAR_DIR="$dir/var"
  if [ "$mode" = fail ]; then
    # The node refuses an unknown option (exit code 2) once PostgreSQL and Redis run.
    start_script "$dir/out.log" "$TEST_ROOT/deploy/run" --no-such-option 1
    finish "$http" "$pg" "$redis"
    [ "$SCRIPT_STATUS" = 2 ] || fail "deploy/run did not pass the node's exit code 2 through ($SCRIPT_STATUS)"
    exit 0
  fi
  start_script "$dir/out.log" "$TEST_ROOT/deploy/run"
  up() { curl -sf --max-time 2 -o /dev/null "http://127.0.0.1:$http/health"; }
  wait_for 800 up
  [ -n "$(pgrep -s "$SCRIPT_PID" -f 'atendeai serve')" ] || fail "no node in the script's session"
  [ -n "$(pgrep -f "postgres -D $dir")" ] || fail "no PostgreSQL under $dir"
  finish "$http" "$pg" "$redis"
  ;;
local-cluster)
  nodes=3
  front=$(free_ports $((nodes + 1)))
  cluster=$(free_ports "$nodes")
  pg=$(free_ports 2)
  redis=$((pg + 1))
  export ATENDEAI_HTTP_PORT=$front ATENDEAI_CLUSTER_BASE_PORT=$cluster ATENDEAI_DEV_PG_PORT=$pg \
    ATENDEAI_DEV_REDIS_PORT=$redis ATENDEAI_CLUSTER_DIR="$dir/cluster" ATENDEAI_CLUSTER_NODES=$nodes \
    ATENDEAI_WHATSAPP_APP_SECRET=signals-$RANDOM ATENDEAI_WHATSAPP_VERIFY_TOKEN=signals \
    ATENDEAI_AUTH_JWT_SECRET=signals-test-jwt-secret-0123456789abcdef0123456789
  ports=("$front" "$pg" "$redis")
  for n in $(seq 1 "$nodes"); do ports+=($((front + n)) $((cluster + n - 1))); done
  if [ "$mode" = fail ]; then
    # n1 refuses an unknown option: the script must notice at once, not after its timeout.
    start_script "$dir/out.log" "$TEST_ROOT/deploy/local-cluster" --no-such-option 1
    finish "${ports[@]}"
    [ "$STOP_SECONDS" -le 60 ] || fail "the failed start took ${STOP_SECONDS}s to notice"
    exit 0
  fi
  start_script "$dir/out.log" "$TEST_ROOT/deploy/local-cluster"
  # Every node sees all three connected (the state of issue 15), HAProxy answers.
  joined() {
    local n
    curl -sf --max-time 2 -o /dev/null "http://127.0.0.1:$front/health" || return 1
    for n in $(seq 1 "$nodes"); do
      curl -sf --max-time 2 "http://127.0.0.1:$((front + n))/health" 2>/dev/null |
        jq -e --argjson n "$nodes" '[.cluster.members[]? | select(.connected)] | length == $n' >/dev/null 2>&1 ||
        return 1
    done
  }
  wait_for 800 joined
  [ -n "$(pgrep -s "$SCRIPT_PID" -x haproxy)" ] || fail "no HAProxy in the script's session"
  finish "${ports[@]}"
  ;;
test)
  export ATENDEAI_TEST_DIR="$dir/suite"
  if [ "$mode" = fail ]; then
    # ctest finds no test: with --no-tests=error that fails the command, after PostgreSQL
    # and Redis started.
    start_script "$dir/out.log" "$TEST_ROOT/deploy/test" -R '^no test is named like this$'
    finish
    grep -q "No tests were found" "$dir/out.log" || fail "ctest did not report that no test was found"
    exit 0
  fi
  # Signalled while the run command's smoke test (ctest → the test → deploy/run → node)
  # holds its node serving after its checks (SMOKE_HOLD_S; a quiet machine would otherwise
  # end the whole nested suite in seconds, before the signal).
  export SMOKE_HOLD_S=600 SMOKE_HOLD_MARK="$dir/holding"
  start_script "$dir/out.log" "$TEST_ROOT/deploy/test" -R '^deploy: run command smoke$'
  # (The test's deploy/run, and so its node, run in a session of their own: the mark says
  # the node answered the smoke test's webhook and still serves.)
  holding() { [ -f "$SMOKE_HOLD_MARK" ] && [ -n "$(pgrep -s "$SCRIPT_PID" -x ctest)" ]; }
  wait_for 800 holding
  finish
  ;;
services)
  pg=$(free_ports 1)
  args=(--dir "$dir/services" --pg-port "$pg" --redis-port "$pg")
  if [ "$mode" = fail ]; then
    # Redis on the port PostgreSQL holds: Redis does not start, the command fails, and
    # nothing of it is left (PostgreSQL, started by the first command, is stopped after).
    bash "$TEST_ROOT/deploy/services" "${args[@]}" start pg
    start_script "$dir/out.log" "$TEST_ROOT/deploy/services" "${args[@]}" start redis
    wait_script_end 60
    note "start redis failed with status $SCRIPT_STATUS after ${STOP_SECONDS}s"
    [ "$SCRIPT_STATUS" != 0 ] || fail "Redis started on a taken port"
    [ -z "$(pgrep -x redis-server -a | grep -F ":$pg" || true)" ] || fail "a Redis on port $pg runs"
    bash "$TEST_ROOT/deploy/services" "${args[@]}" stop pg
    check_nothing_left "$dir" "$pg"
    exit 0
  fi
  # Signalled once the postmaster runs and before the command is done (initdb, start,
  # createdb); when it was done first, the start is tried again on a fresh folder.
  for attempt in 1 2 3 4 5; do
    rm -rf "$dir/services"
    start_script "$dir/out.log" "$TEST_ROOT/deploy/services" "${args[@]}" start pg
    until pgrep -f "postgres -D $dir/services/pg" >/dev/null; do
      kill -0 "$SCRIPT_PID" 2>/dev/null || break
      sleep 0.02
    done
    note "SIG$mode to process group $SCRIPT_PID"
    kill -s "$mode" -- "-$SCRIPT_PID" 2>/dev/null || true
    wait_script_end 60
    if [ "$SCRIPT_STATUS" != 0 ]; then
      note "the script ended with status $SCRIPT_STATUS after ${STOP_SECONDS}s"
      [ "$SCRIPT_STATUS" = $((128 + $(kill -l "$mode"))) ] || { cat "$dir/out.log" >&2; fail "exit status $SCRIPT_STATUS"; }
      check_nothing_left "$dir" "$pg"
      exit 0
    fi
    note "attempt $attempt: the start was done before the signal; again"
    bash "$TEST_ROOT/deploy/services" "${args[@]}" stop pg
  done
  fail "never caught deploy/services while it started PostgreSQL"
  ;;
bench)
  export BENCH_DATA_DIR="$dir/bench" BENCH_RESULTS_DIR="$dir/results" BENCH_PORT=$(free_ports 400)
  if [ "$mode" = fail ]; then
    start_script "$dir/out.log" "$TEST_ROOT/bench/run" quick no-such-scenario
    finish
    grep -q "unknown scenario" "$dir/out.log" || fail "bench/run did not fail on the unknown scenario"
    exit 0
  fi
  BENCH_DURATION=600 start_script "$dir/out.log" "$TEST_ROOT/bench/run" quick throughput
  generating() { [ -n "$(pgrep -s "$SCRIPT_PID" -f atendeai_loadgen)" ]; }
  wait_for 800 generating
  [ -n "$(pgrep -s "$SCRIPT_PID" -f 'atendeai serve')" ] || fail "no node in the script's session"
  [ -n "$(pgrep -f "postgres -D $dir")" ] || fail "no PostgreSQL under $dir"
  finish
  ;;
*) fail "script: run, local-cluster, test, services or bench" ;;
esac
