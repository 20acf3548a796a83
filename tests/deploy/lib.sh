# Shared by the bash tests of the deploy scripts (tests/deploy/*.sh, registered in
# tests/CMakeLists.txt): each starts a script the way a terminal or a supervisor does
# (a session and process group of its own), on private ports and folders under the
# suite's ATENDEAI_TEST_VAR_DIR, and checks that nothing it started is left running.
set -euo pipefail
TEST_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../../deploy/common.sh
source "$TEST_ROOT/deploy/common.sh" # free_port, port_free, PG_BIN

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
note() { echo "-- $*" >&2; }

[ -n "${ATENDEAI_TEST_VAR_DIR:-}" ] || fail "ATENDEAI_TEST_VAR_DIR is not set: run the suite with deploy/test"
# The scripts kill what a SIGTERM did not stop after this long; the tests want far less.
export ATENDEAI_STOP_GRACE_S=10
# Only what a test sets reaches the scripts (as on a developer's machine).
unset ATENDEAI_HTTP_PORT ATENDEAI_PATHS_VAR_DIR ATENDEAI_WHATSAPP_APP_SECRET ATENDEAI_WHATSAPP_VERIFY_TOKEN \
  ATENDEAI_AUTH_JWT_SECRET ATENDEAI_DATABASE_URL ATENDEAI_REDIS_URL ATENDEAI_SECURITY_DATA_KEY_FILE

# test_dir NAME: a fresh folder (absolute, reachable by the postgres user) for one test.
test_dir() {
  local d
  d=$(mktemp -d "$ATENDEAI_TEST_VAR_DIR/$1-XXXXXX")
  chmod 755 "$d" # mktemp makes it 0700: postgres could not reach its data folder
  echo "$d"
}

# free_ports N: the first of N consecutive free ports, from a random start below the
# ephemeral range (other suites may run on this machine at the same time).
free_ports() {
  local n=$1 p i
  p=$((10000 + RANDOM % 20000))
  while :; do
    for ((i = 0; i < n; i++)); do port_free $((p + i)) || break; done
    [ "$i" = "$n" ] && { echo "$p"; return; }
    p=$((p + i + 1))
  done
}

# start_script LOG SCRIPT [ARGS...]: starts `bash SCRIPT ARGS` in a session of its own
# (setsid), as a terminal or a supervisor would, output to LOG; SCRIPT_PID is its pid,
# which is also its session and process group id.
SCRIPT_PID= SCRIPT_LOG= WATCH_DIR=
start_script() {
  SCRIPT_LOG=$1
  shift
  setsid bash "$@" >"$SCRIPT_LOG" 2>&1 </dev/null &
  SCRIPT_PID=$!
  local i
  for i in $(seq 1 100); do
    [ "$(ps -o sid= -p "$SCRIPT_PID" | tr -d ' ')" = "$SCRIPT_PID" ] && return 0
    sleep 0.02
  done
  fail "setsid did not give $* a session of its own"
}

# wait_for SECONDS COMMAND...: until COMMAND succeeds; fails when the script ends first.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    kill -0 "$SCRIPT_PID" 2>/dev/null || { tail -n 30 "$SCRIPT_LOG" >&2; fail "the script ended early"; }
    [ "$SECONDS" -lt "$deadline" ] || { tail -n 30 "$SCRIPT_LOG" >&2; fail "timed out waiting for: $*"; }
    sleep 0.2
  done
}

# wait_script_end SECONDS: waits for the script to end; SCRIPT_STATUS is its exit status
# (128+N when it ended by signal N), STOP_SECONDS how long that took.
SCRIPT_STATUS= STOP_SECONDS=
wait_script_end() {
  local start=$SECONDS deadline=$((SECONDS + $1))
  while kill -0 "$SCRIPT_PID" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || { tail -n 30 "$SCRIPT_LOG" >&2; fail "still running $1 s later"; }
    sleep 0.1
  done
  SCRIPT_STATUS=0
  wait "$SCRIPT_PID" || SCRIPT_STATUS=$?
  STOP_SECONDS=$((SECONDS - start))
}

# signal_script SIG: sends SIG to the script's process group (what Ctrl-C in a terminal,
# a closed terminal or a supervisor's stop do), then waits for the script (60 s at most)
# and checks that it ended by that signal.
signal_script() {
  local sig=$1
  note "SIG$sig to process group $SCRIPT_PID"
  kill -s "$sig" -- "-$SCRIPT_PID"
  wait_script_end 60
  note "the script ended with status $SCRIPT_STATUS after ${STOP_SECONDS}s"
  [ "$SCRIPT_STATUS" = $((128 + $(kill -l "$sig"))) ] ||
    { tail -n 30 "$SCRIPT_LOG" >&2; fail "exit status $SCRIPT_STATUS after SIG$sig"; }
}

# check_nothing_left DIR [PORT...]: nothing the script started runs any more: no process
# in its session (nodes, HAProxy, builds, tests), none naming DIR on its command line
# (PostgreSQL), no live process in a pid file under DIR (Redis, nodes), no PostgreSQL
# pid file under DIR, and every PORT free.
check_nothing_left() {
  local dir=$1 left f pid port bad=0
  shift
  left=$(ps -o pid=,stat=,args= -s "$SCRIPT_PID" | awk '$2 !~ /^Z/' || true)
  [ -z "$left" ] || { echo "still in the script's session:" >&2; echo "$left" >&2; bad=1; }
  left=$(pgrep -af -- "$dir" | grep -v "^$$ " || true)
  [ -z "$left" ] || { echo "still running in $dir:" >&2; echo "$left" >&2; bad=1; }
  while IFS= read -r f; do
    pid=$(cat "$f" 2>/dev/null) || continue
    case $f in
      */postmaster.pid) echo "PostgreSQL not stopped: $f" >&2; bad=1 ;;
      *) if [ -n "$pid" ] && ps -o pid= -p "$pid" >/dev/null 2>&1 &&
           [ "$(ps -o stat= -p "$pid" | cut -c1)" != Z ]; then
           echo "pid $pid of $f still runs: $(ps -o args= -p "$pid")" >&2; bad=1
         fi ;;
    esac
  done < <(find "$dir" -name '*.pid' 2>/dev/null)
  for port in "$@"; do
    port_free "$port" || { echo "port $port still taken" >&2; bad=1; }
  done
  [ "$bad" = 0 ] || { tail -n 30 "$SCRIPT_LOG" >&2; fail "something the script started is left running"; }
  note "nothing left running (session $SCRIPT_PID, $dir${*:+, ports $*})"
}

# A failing test leaves nothing behind either.
cleanup_test_() {
  if [ -n "$SCRIPT_PID" ] && kill -0 "$SCRIPT_PID" 2>/dev/null; then
    kill -KILL -- "-$SCRIPT_PID" 2>/dev/null || true
  fi
  [ -z "$WATCH_DIR" ] || stop_services_under "$WATCH_DIR"
}
trap cleanup_test_ EXIT
