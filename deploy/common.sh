# Shared by deploy/run, deploy/test and deploy/services: packages, build, private
# PostgreSQL and Redis. Source it; it defines functions only.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PG_BIN=/usr/lib/postgresql/15/bin

PACKAGES=(build-essential cmake ninja-build ccache pkg-config git ca-certificates openssl haproxy
  libcaf-dev librestinio-dev libasio-dev libhttp-parser-dev libfmt-dev libpqxx-dev libpq-dev
  libhiredis-dev nlohmann-json3-dev libspdlog-dev catch2 libtomlplusplus-dev
  libhowardhinnant-date-dev tzdata libcurl4-openssl-dev libssl-dev libcrypt-dev
  postgresql-15 redis-server prometheus curl jq)
# (postgresql-15 ships the contrib extensions, btree_gist among them: postgresql-contrib-15
# is only a virtual name it provides, which dpkg never reports as installed.)
# prometheus brings promtool, which the suite runs on deploy/prometheus and on /metrics.

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

# build DIR BUILD_TYPE [cmake args...]: configures (Ninja, ccache) and builds.
build() {
  local dir=$1 type=$2; shift 2
  export CCACHE_BASEDIR="$ROOT" CCACHE_NOHASHDIR=1 CCACHE_COMPRESS=1 CCACHE_MAXSIZE=5G
  if [ ! -f "$dir/build.ninja" ]; then
    cmake -S "$ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="$type" "$@" >/dev/null
  fi
  say "building ($type) in ${dir#$ROOT/}"
  cmake --build "$dir" -j "${ATENDEAI_BUILD_JOBS:-2}"
}

# A directory for service data that the unprivileged database user can reach: var/
# under the checkout when possible, else a per-checkout folder under /var/lib/atendeai.
data_root() {
  local want="$ROOT/var"
  mkdir -p "$want"
  if [ "$(id -u)" != 0 ] || runuser -u postgres -- test -x "$want" 2>/dev/null; then
    echo "$want"
    return
  fi
  local alt="/var/lib/atendeai/$(printf '%s' "$ROOT" | md5sum | cut -c1-12)"
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
  if as_db_user "$PG_BIN/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
    as_db_user "$PG_BIN/pg_ctl" -D "$dir" -m fast stop >/dev/null 2>&1 || true
  fi
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

pg_stop() {
  local dir=$1
  [ -f "$dir/PG_VERSION" ] || return 0
  as_db_user "$PG_BIN/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
}

# redis_start DIR PORT / redis_stop DIR
redis_start() {
  local dir=$1 port=$2
  mkdir -p "$dir"
  redis_stop "$dir"
  redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --daemonize yes \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --save '' --appendonly no >/dev/null
  local i
  for i in $(seq 1 50); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  say "Redis did not start (see $dir/redis.log)"
  return 1
}

redis_stop() {
  local dir=$1 pid
  [ -f "$dir/redis.pid" ] || return 0
  pid=$(cat "$dir/redis.pid")
  if kill "$pid" 2>/dev/null; then
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  fi
  rm -f "$dir/redis.pid"
}

# load_demo_secrets: generates the demo secrets once into var/demo-secrets.env (mode
# 0600; never committed) and exports them.
load_demo_secrets() {
  mkdir -p "$ROOT/var"
  local secrets="$ROOT/var/demo-secrets.env"
  if [ ! -f "$secrets" ]; then
    (
      umask 077
      echo "ATENDEAI_WHATSAPP_APP_SECRET=$(openssl rand -hex 32)"
      echo "ATENDEAI_WHATSAPP_VERIFY_TOKEN=$(openssl rand -hex 16)"
    ) >"$secrets"
    say "generated demo secrets in $secrets"
  fi
  if ! grep -q '^ATENDEAI_AUTH_JWT_SECRET=' "$secrets"; then
    (umask 077; echo "ATENDEAI_AUTH_JWT_SECRET=$(openssl rand -hex 32)" >>"$secrets")
    say "added a JWT secret to $secrets"
  fi
  set -a
  # shellcheck disable=SC1090
  source "$secrets"
  set +a
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
