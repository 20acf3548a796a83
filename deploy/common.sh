# Shared by deploy/run, deploy/test, deploy/services and deploy/local-cluster: packages,
# build, private PostgreSQL and Redis, demo secrets, and stopping everything a script
# started. Source it; it defines functions only.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_BIN=/usr/lib/postgresql/15/bin
# The scripts' own settings stay in this shell: the node refuses ATENDEAI_* variables
# that are not configuration keys, so it must not inherit them.
export -n ATENDEAI_STOP_GRACE_S ATENDEAI_BUILD_JOBS 2>/dev/null || true

PACKAGES=(build-essential cmake ninja-build ccache pkg-config git ca-certificates openssl haproxy
  libcaf-dev librestinio-dev libasio-dev libhttp-parser-dev libfmt-dev libpqxx-dev libpq-dev
  libhiredis-dev nlohmann-json3-dev libspdlog-dev catch2 libtomlplusplus-dev
  libhowardhinnant-date-dev tzdata libcurl4-openssl-dev libssl-dev libcrypt-dev libjemalloc-dev
  postgresql-15 redis-server prometheus curl jq systemd)
# (postgresql-15 ships the contrib extensions, btree_gist among them: postgresql-contrib-15
# is only a virtual name it provides, which dpkg never reports as installed.)
# prometheus brings promtool, which the suite runs on deploy/prometheus and on /metrics;
# systemd brings systemd-analyze (the units of deploy/systemd), haproxy `haproxy -c`.

say() { printf '\033[1m[atendeai]\033[0m %s\n' "$*" >&2; }

# Installs whatever of PACKAGES is missing (apt, as root).
install_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    say "missing packages: ${missing[*]} — run as root or: sudo apt-get install ${missing[*]}"
    return 2
  fi
  say "installing ${#missing[@]} packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # apt may start system PostgreSQL/Redis on 5432/6379; ours use private ports.
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# install_tools: the npm packages of deploy/tools (the suite's linters and validators:
# Spectral for the OpenAPI contract, dclint for compose, kubernetes-models for the
# manifests, dockerfile-utils, ajv) into build/tools with `npm ci` from the committed
# package-lock.json (no install scripts); skipped while the lock is unchanged, so only
# the first run needs the registry. Node.js: the machine's, else Debian's nodejs and npm.
TOOLS_DIR="$ROOT/build/tools"
install_tools() {
  if ! command -v npm >/dev/null; then
    PACKAGES+=(nodejs npm)
    install_packages || return
  fi
  mkdir -p "$TOOLS_DIR"
  if [ -d "$TOOLS_DIR/node_modules" ] && cmp -s "$ROOT/deploy/tools/package-lock.json" "$TOOLS_DIR/package-lock.json"; then
    return 0
  fi
  say "installing the test tools (npm ci) into ${TOOLS_DIR#$ROOT/}"
  cp "$ROOT/deploy/tools/package.json" "$ROOT/deploy/tools/package-lock.json" "$TOOLS_DIR/"
  (cd "$TOOLS_DIR" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null)
}

# build DIR BUILD_TYPE [cmake args...] [-- TARGET...]: configures (Ninja, ccache) and
# builds (every target, or the TARGETs given). The CMake arguments are kept beside
# build.ninja (atendeai-cmake-args); when they differ from the last configure, the folder
# is configured again from scratch (cmake --fresh: no cached value of an earlier
# configure survives), so a reused build folder never silently keeps old arguments.
build() {
  local dir=$1 type=$2; shift 2
  local args=() targets=()
  while [ $# -gt 0 ]; do
    if [ "$1" = -- ]; then shift; targets=("$@"); break; fi
    args+=("$1"); shift
  done
  export CCACHE_BASEDIR="$ROOT" CCACHE_NOHASHDIR=1 CCACHE_COMPRESS=1 CCACHE_MAXSIZE=5G
  local stamp="$dir/atendeai-cmake-args" want
  want=$(printf '%s\n' -G Ninja "-DCMAKE_BUILD_TYPE=$type" "${args[@]}")
  if [ ! -f "$dir/build.ninja" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    [ -f "$dir/build.ninja" ] && say "CMake arguments changed: configuring ${dir#$ROOT/} again"
    rm -f "$stamp"
    cmake --fresh -S "$ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="$type" "${args[@]}" >/dev/null
    printf '%s\n' "$want" >"$stamp"
  fi
  say "building ($type${targets[*]:+: ${targets[*]}}) in ${dir#$ROOT/}"
  cmake --build "$dir" -j "${ATENDEAI_BUILD_JOBS:-2}" ${targets[@]:+--target "${targets[@]}"}
}

# data_root [DIR]: a directory for service data that the unprivileged database user can
# reach: DIR (default var/ under the checkout) when possible, else a folder under
# /var/lib/atendeai named after it.
data_root() {
  local want=${1:-$ROOT/var} key=${1:-$ROOT}
  mkdir -p "$want"
  if [ "$(id -u)" != 0 ] || runuser -u postgres -- test -x "$want" 2>/dev/null; then
    echo "$want"
    return
  fi
  local alt="/var/lib/atendeai/$(printf '%s' "$key" | md5sum | cut -c1-12)"
  mkdir -p "$alt"
  say "postgres cannot reach $want (a parent directory is private); service data goes to $alt"
  echo "$alt"
}

as_db_user() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# free_port START: the first free TCP port from START on.
free_port() {
  local p=$1
  while ! port_free "$p"; do p=$((p + 1)); done
  echo "$p"
}

# pg_start DIR PORT: initialises (first time) and starts PostgreSQL 15 in DIR.
pg_start() {
  local dir=$1 port=$2
  if [ ! -f "$dir/PG_VERSION" ]; then
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    chmod 700 "$dir"
    as_db_user "$PG_BIN/initdb" -D "$dir" -U atendeai --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  pg_stop "$dir" # left running by an earlier run
  if ! port_free "$port"; then
    say "port $port is taken; set ATENDEAI_DEV_PG_PORT to another"
    return 1
  fi
  as_db_user "$PG_BIN/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 start \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=256MB" >/dev/null
  "$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U atendeai -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname='atendeai'" | grep -q 1 \
    || "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U atendeai atendeai
}

# pg_stop DIR: stops the PostgreSQL of DIR, within seconds whatever it is doing: a fast
# shutdown (sessions ended), then an immediate one, then SIGKILL to the postmaster.
pg_stop() {
  local dir=$1 pid
  [ -f "$dir/postmaster.pid" ] || return 0
  as_db_user "$PG_BIN/pg_ctl" -D "$dir" -m fast -w -t 15 stop >/dev/null 2>&1 && return 0
  [ -f "$dir/postmaster.pid" ] || return 0
  as_db_user "$PG_BIN/pg_ctl" -D "$dir" -m immediate -w -t 5 stop >/dev/null 2>&1 && return 0
  pid=$(head -n 1 "$dir/postmaster.pid" 2>/dev/null) || return 0
  if [ "$(ps -o comm= -p "$pid" 2>/dev/null)" = postgres ]; then
    say "PostgreSQL in $dir did not stop: killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  return 0
}

# redis_start DIR PORT / redis_stop DIR
redis_start() {
  local dir=$1 port=$2
  mkdir -p "$dir"
  redis_stop "$dir" # left running by an earlier run
  if ! port_free "$port"; then
    say "port $port is taken; set ATENDEAI_DEV_REDIS_PORT to another"
    return 1
  fi
  redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --daemonize yes \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --save '' --appendonly no >/dev/null
  local i
  for i in $(seq 1 50); do
    timeout 2 redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && return 0
    sleep 0.1
  done
  say "Redis did not start (see $dir/redis.log)"
  return 1
}

# redis_stop DIR: SIGTERM to the Redis of DIR (its pid file), SIGKILL after 10 s.
redis_stop() {
  local dir=$1 pid i
  [ -f "$dir/redis.pid" ] || return 0
  pid=$(cat "$dir/redis.pid" 2>/dev/null) || pid=
  # only a Redis: a stale pid file may name another process by now
  if [ -n "$pid" ] && [ "$(ps -o comm= -p "$pid" 2>/dev/null)" = redis-server ] && kill "$pid" 2>/dev/null; then
    for i in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null && say "Redis in $dir did not stop: killed it"
  fi
  rm -f "$dir/redis.pid"
  return 0
}

# stop_services_under DIR: stops every PostgreSQL and Redis whose data lives under DIR
# (those a script started, and those its tests started there).
stop_services_under() {
  local f
  [ -d "$1" ] || return 0
  while IFS= read -r f; do redis_stop "$(dirname "$f")"; done < <(find "$1" -name redis.pid 2>/dev/null)
  while IFS= read -r f; do pg_stop "$(dirname "$f")"; done < <(find "$1" -name postmaster.pid 2>/dev/null)
}

# load_demo_secrets [DIR]: generates the demo secrets once into DIR/demo-secrets.env
# (DIR: var/ by default; mode 0600; never committed) and exports those the environment
# leaves unset or empty: an operator's ATENDEAI_WHATSAPP_APP_SECRET,
# ATENDEAI_WHATSAPP_VERIFY_TOKEN or ATENDEAI_AUTH_JWT_SECRET always wins.
load_demo_secrets() {
  local dir=${1:-$ROOT/var} key
  local secrets="$dir/demo-secrets.env"
  for key in ATENDEAI_WHATSAPP_APP_SECRET ATENDEAI_WHATSAPP_VERIFY_TOKEN ATENDEAI_AUTH_JWT_SECRET ""; do
    [ -z "$key" ] && { say "secrets: all from the environment"; return 0; }
    [ -n "${!key:-}" ] || break
  done
  mkdir -p "$dir"
  if [ ! -f "$secrets" ]; then
    (
      umask 077 # the file is created inside the subshell, so with this umask: mode 0600
      {
        echo "ATENDEAI_WHATSAPP_APP_SECRET=$(openssl rand -hex 32)"
        echo "ATENDEAI_WHATSAPP_VERIFY_TOKEN=$(openssl rand -hex 16)"
      } >"$secrets"
    )
    say "generated demo secrets in $secrets"
  fi
  if ! grep -q '^ATENDEAI_AUTH_JWT_SECRET=' "$secrets"; then
    (umask 077; echo "ATENDEAI_AUTH_JWT_SECRET=$(openssl rand -hex 32)" >>"$secrets")
    say "added a JWT secret to $secrets"
  fi
  # KEY=value lines (the value may be quoted); anything else is skipped
  local line value own=()
  while IFS= read -r line || [ -n "$line" ]; do
    key=${line%%=*} value=${line#*=}
    [[ $key =~ ^ATENDEAI_[A-Z0-9_]+$ ]] || continue
    [[ $value =~ ^\"(.*)\"$ || $value =~ ^\'(.*)\'$ ]] && value=${BASH_REMATCH[1]}
    if [ -n "${!key:-}" ]; then
      own+=("$key")
    else
      export "$key=$value"
    fi
  done <"$secrets"
  [ ${#own[@]} -eq 0 ] || say "secrets from the environment (not $secrets): ${own[*]}"
}

# load_demo_data_key [DIR]: the data key that seals channel tokens in the database
# (security.data_key_file), for the demo: generated once into DIR/data.key (DIR: var/ by
# default; 64 hex digits, mode 0600; never committed) and exported as
# ATENDEAI_SECURITY_DATA_KEY_FILE, unless the environment names a key file already (the
# operator's wins). The node itself never generates a key: losing this file loses the
# channel tokens sealed with it.
load_demo_data_key() {
  local dir=${1:-$ROOT/var}
  if [ -n "${ATENDEAI_SECURITY_DATA_KEY_FILE:-}" ]; then
    say "data key: $ATENDEAI_SECURITY_DATA_KEY_FILE (from the environment)"
    return 0
  fi
  local key="$dir/data.key"
  mkdir -p "$dir"
  if [ ! -f "$key" ]; then
    (umask 077; openssl rand -hex 32 >"$key.tmp" && mv "$key.tmp" "$key")
    say "generated the demo data key in $key"
  fi
  export ATENDEAI_SECURITY_DATA_KEY_FILE="$key"
}

# wait_http URL SECONDS: waits until URL answers (any status); fails on timeout.
wait_http() {
  local url=$1 tries=$(($2 * 5))
  while [ "$tries" -gt 0 ]; do
    tries=$((tries - 1))
    curl -s -o /dev/null --max-time 2 "$url" && return 0
    sleep 0.2
  done
  return 1
}

# wait_started URL SECONDS PID: waits until URL answers while process PID runs; fails
# at once when PID ends, or on timeout.
wait_started() {
  local url=$1 tries=$(($2 * 5)) pid=$3
  while [ "$tries" -gt 0 ]; do
    tries=$((tries - 1))
    kill -0 "$pid" 2>/dev/null || return 1
    curl -s -o /dev/null --max-time 2 "$url" && return 0
    sleep 0.2
  done
  return 1
}

# -- Stopping everything a script started -----------------------------------------------
#
# A script that starts services calls, first thing:
#   own_signals "$@"       (SIGINT usable even when started in the background: see below)
#   on_stop my_cleanup     (runs once however the script ends)
# and runs its long steps with run_step, so that a signal is handled at once.

# own_signals "$@": a script started in the background of a non-interactive shell
# inherits SIGINT ignored, and bash can neither trap nor reset a signal ignored at entry.
# When such a script leads its own process group (started with setsid, or by a
# supervisor), a SIGINT to that group (Ctrl-C in its terminal, a supervisor's stop) is
# meant for it: the script runs itself again with SIGINT restored, so that its trap
# stops everything. In a group of its caller it leaves SIGINT to the caller.
own_signals() {
  if [ "$(trap -p INT)" = "trap -- '' SIGINT" ] && [ -z "${ATENDEAI_OWN_SIGNALS_:-}" ] &&
    [ "$(ps -o pgid= -p $$ | tr -d ' ')" = "$$" ]; then
    export ATENDEAI_OWN_SIGNALS_=1
    exec env --default-signal=INT bash "$0" "$@"
  fi
  unset ATENDEAI_OWN_SIGNALS_
}

# on_stop FUNCTION: FUNCTION runs once, with the exit status as its argument, when the
# script ends: at its end, when a step fails (set -e), or on SIGINT, SIGTERM or SIGHUP.
# After a signal the script ends by that same signal (status 128+N for its caller).
on_stop() {
  ON_STOP_=$1
  trap 'stopping_ ""' EXIT
  trap 'stopping_ INT' INT
  trap 'stopping_ TERM' TERM
  trap 'stopping_ HUP' HUP
}

stopping_() {
  local status=$? sig=$1
  # The cleanup is bounded; a second Ctrl-C or a closed terminal/pipe must not cut it short.
  trap '' INT TERM HUP PIPE
  trap - EXIT
  set +e
  if [ -n "$sig" ]; then
    status=$((128 + $(kill -l "$sig")))
    say "SIG$sig: stopping everything this script started"
  fi
  "$ON_STOP_" "$status"
  if [ -n "$sig" ]; then
    trap - "$sig"
    kill -s "$sig" $$
  fi
  exit "$status"
}

# run_step COMMAND...: runs COMMAND in the background and waits for it. Bash runs a trap
# only once the foreground command has ended; a background one lets a signal stop the
# script (and, through stop_children, the step) at once.
run_step() {
  "$@" &
  wait $!
}

# descendants_ PID: the processes PID started: those below it (children, their
# children, ...) and, when PID leads its process group, every other member of that group
# (a process whose parent ended early is no longer below PID, but still in its group).
# Not the shell running this function, nor the subshells it runs in and what they start.
descendants_() {
  local self=$BASHPID # (in the pipeline below, each command has a $BASHPID of its own)
  ps -e -o pid=,ppid=,pgid= | awk -v root="$1" -v self="$self" '
    { parent[$1] = $2; group[$1] = $3 }
    END {
      for (p = self; p in parent && p != root; p = parent[p]) skip[p] = 1
      leader = (group[root] == root)
      for (p in parent) {
        if (p == root || p in skip) continue
        below = 0
        for (q = parent[p]; q in parent; q = parent[q]) {
          if (q == self) { below = -1; break }
          if (q == root) { below = 1; break }
          if (++depth > 100) break
        }
        depth = 0
        if (below == 1 || (below == 0 && leader && group[p] == root)) print p
      }
    }'
}

# alive_ PID...: those of the PIDs that still run (zombies do not).
alive_() {
  [ $# -gt 0 ] || return 0
  ps -o pid=,stat= -p "$(IFS=,; echo "$*")" 2>/dev/null | awk '$2 !~ /^Z/ { print $1 }'
}

# stop_children: SIGTERM to every process this script started, whole trees (nodes,
# HAProxy, builds, ctest and what the tests started), SIGKILL to whatever still runs
# ATENDEAI_STOP_GRACE_S seconds later (default 20). The tree is frozen (SIGSTOP) while
# it is listed, so that nothing forks between listing and signalling; processes that
# appear afterwards are the cleanups of child scripts: waited for, not signalled.
# SIGTERM, not SIGINT: background children of a non-interactive script ignore SIGINT.
stop_children() {
  local grace=${ATENDEAI_STOP_GRACE_S:-20} p more left fresh
  local -A seen=() round
  for round in 1 2 3 4 5 6 7 8 9 10; do
    more=$(descendants_ $$)
    fresh=()
    for p in $more; do
      [ -n "${seen[$p]:-}" ] || { seen[$p]=1; fresh+=("$p"); }
    done
    [ ${#fresh[@]} -gt 0 ] || break
    kill -STOP "${fresh[@]}" 2>/dev/null
  done
  [ ${#seen[@]} -gt 0 ] || return 0
  kill -TERM "${!seen[@]}" 2>/dev/null
  kill -CONT "${!seen[@]}" 2>/dev/null
  local deadline=$((SECONDS + grace))
  while :; do
    # shellcheck disable=SC2046
    left=$(alive_ "${!seen[@]}" $(descendants_ $$))
    [ -n "$left" ] || return 0
    [ "$SECONDS" -lt "$deadline" ] || break
    sleep 0.2
  done
  say "still running ${grace}s after SIGTERM, killed: $(ps -o comm= -p "$(echo $left | tr ' ' ,)" | sort | uniq -c | xargs)"
  # shellcheck disable=SC2086
  kill -KILL $left 2>/dev/null
  return 0
}
