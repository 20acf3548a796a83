#!/usr/bin/env bash
# The operator files checked by the tools that read them, without a container daemon or
# a Kubernetes cluster (deploy/README.md, "What the suite checks"). One check a call:
#
#   static_checks.sh haproxy | systemd | compose | kubernetes | dockerfile
#                    | image-libraries BINARY | image-build-packages
#                    | openapi-lint | openapi-routes ROUTE_TABLE_BINARY | config-variables
#
# The npm tools come from ATENDEAI_TEST_TOOLS (deploy/test: install_tools). A validator
# whose verdict is trusted is also shown to reject a planted mistake.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TOOLS=${ATENDEAI_TEST_TOOLS:-$ROOT/build/tools}
BIN=$TOOLS/node_modules/.bin
fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "-- $*" >&2; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# self_signed DIR: DIR/cert.pem, DIR/key.pem and DIR/both.pem for localhost / 127.0.0.1.
self_signed() {
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$1/key.pem" -out "$1/cert.pem" 2>/dev/null
  cat "$1/cert.pem" "$1/key.pem" >"$1/both.pem"
}

case ${1:?check} in
  haproxy)
    self_signed "$WORK"
    out=$(LB_CERT=$WORK/both.pem haproxy -c -f "$ROOT/deploy/haproxy/haproxy.cfg" 2>&1) || { echo "$out"; fail "haproxy -c"; }
    echo "$out"
    grep -q "Configuration file is valid" <<<"$out" || fail "haproxy -c did not say valid"
    if LB_CERT=$WORK/missing.pem haproxy -c -f "$ROOT/deploy/haproxy/haproxy.cfg" >/dev/null 2>&1; then
      fail "haproxy -c accepted a missing certificate"
    fi
    ;;
  systemd)
    # ExecStart must name an executable: the units are checked as installed, with the
    # binary at /usr/local/bin replaced by /bin/true.
    cp "$ROOT"/deploy/systemd/*.service "$ROOT"/deploy/systemd/*.target "$WORK/"
    sed -i 's|/usr/local/bin/atendeai|/bin/true|' "$WORK"/*.service
    for unit in atendeai@n1.service atendeai-migrate.service atendeai.target; do
      out=$(cd "$WORK" && systemd-analyze verify "./$unit" 2>&1) || { echo "$out"; fail "systemd-analyze verify $unit"; }
      [ -z "$out" ] || { echo "$out"; fail "systemd-analyze verify $unit printed warnings"; }
      note "systemd-analyze verify $unit: clean"
    done
    sed -i 's/^ProtectSystem=strict/ProtectSystem=strictt/' "$WORK/atendeai@.service"
    out=$(cd "$WORK" && systemd-analyze verify ./atendeai@n1.service 2>&1 || true)
    grep -q "ProtectSystem\|protect system" <<<"$out" || fail "a planted mistake went unnoticed"
    for key in ProtectSystem=strict NoNewPrivileges=yes User=atendeai StateDirectory=atendeai EnvironmentFile=; do
      grep -q "^$key" "$ROOT/deploy/systemd/atendeai@.service" || fail "atendeai@.service lacks $key"
    done
    ;;
  compose)
    mkdir -p "$WORK/compose"
    cp "$ROOT/deploy/compose/compose.yaml" "$ROOT/deploy/compose/dclint.json" "$WORK/compose/"
    "$BIN/dclint" --color false -c "$ROOT/deploy/compose/dclint.json" --max-warnings 0 "$ROOT/deploy/compose/compose.yaml" ||
      fail "dclint (compose schema and rules)"
    note "dclint: compose.yaml valid against the Compose Specification schema"
    sed 's/^    restart: unless-stopped/    restrat: unless-stopped/' "$ROOT/deploy/compose/compose.yaml" >"$WORK/compose/bad.yaml"
    if "$BIN/dclint" --color false -c "$ROOT/deploy/compose/dclint.json" "$WORK/compose/bad.yaml" >/dev/null 2>&1; then
      fail "dclint accepted an unknown key"
    fi
    # Every file the compose file mounts from the repository exists.
    for f in ../haproxy/haproxy.cfg ./prometheus.yml ../prometheus/alerts.yml ./grafana/datasources \
      ./grafana/dashboards ../grafana/atendeai.json ../../Dockerfile; do
      [ -e "$ROOT/deploy/compose/$f" ] || fail "compose.yaml mounts $f, which does not exist"
    done
    # Prometheus reads the alert rules mounted beside its configuration.
    cp "$ROOT/deploy/prometheus/alerts.yml" "$ROOT/deploy/compose/prometheus.yml" "$WORK/compose/"
    promtool check config "$WORK/compose/prometheus.yml" || fail "promtool check config compose/prometheus.yml"
    note "promtool: compose/prometheus.yml with the alert rules is valid"
    ;;
  kubernetes)
    (cd "$TOOLS" && node "$ROOT/tests/deploy/validate_kubernetes.mjs" "$ROOT"/deploy/kubernetes/*.yaml) ||
      fail "Kubernetes manifests"
    sed 's/minAvailable: 2/minAvailable: [2]/' "$ROOT/deploy/kubernetes/pdb.yaml" >"$WORK/bad.yaml"
    if (cd "$TOOLS" && node "$ROOT/tests/deploy/validate_kubernetes.mjs" "$WORK/bad.yaml") >/dev/null 2>&1; then
      fail "the validator accepted a wrongly typed field"
    fi
    ;;
  dockerfile)
    out=$("$BIN/dockerfile-utils" lint "$ROOT/Dockerfile" 2>&1) || { echo "$out"; fail "dockerfile-utils lint"; }
    [ -z "$out" ] || { echo "$out"; fail "dockerfile-utils lint reported problems"; }
    printf 'FROM debian:bookworm-slim\nEXPOSE 80000\nHEALTHCHECK CMD\n' >"$WORK/Dockerfile.bad"
    out=$("$BIN/dockerfile-utils" lint "$WORK/Dockerfile.bad" 2>&1 || true)
    [ -n "$out" ] || fail "dockerfile-utils accepted a broken Dockerfile"
    grep -q '^USER atendeai' "$ROOT/Dockerfile" || fail "the image does not run as its own user"
    grep -q '^HEALTHCHECK' "$ROOT/Dockerfile" || fail "the image has no HEALTHCHECK"
    [ -f "$ROOT/.dockerignore" ] || fail "no .dockerignore"
    note "dockerfile-utils lint: clean"
    ;;
  image-libraries)
    # The runtime stage installs exactly the Debian packages of the binary's libraries
    # (less those every Debian image has).
    binary=${2:?binary}
    # Debian packages of shared libraries (one dpkg -S for all: each call reads the database).
    # Each library by its path and its resolved path (usr-merge: dpkg knows one of them).
    packages_of() {
      local paths
      paths=$(while read -r p; do echo "$p"; readlink -f "$p"; done | sort -u)
      { xargs -r dpkg -S <<<"$paths" 2>/dev/null || true; } | cut -d: -f1 | tr -d ' ' | tr ',' '\n' | sort -u
    }
    want=$(ldd "$binary" | awk '$3 ~ /^\// {print $3}' | packages_of)
    direct=$(readelf -d "$binary" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | while read -r so; do
      ldd "$binary" | awk -v so="$so" '$1 == so {print $3}'; done | packages_of)
    base="libc6 libstdc++6 libgcc-s1 libcrypt1"
    runtime=$(sed -n '/^FROM .* AS runtime/,$p' "$ROOT/Dockerfile" | tr -s ' \\\n' '\n' | grep -E '^lib' | sort -u)
    missing=$(comm -23 <(echo "$direct" | tr ' ' '\n' | grep -vxF -f <(tr ' ' '\n' <<<"$base") | sort -u) <(echo "$runtime"))
    extra=$(comm -13 <(echo "$want" | sort -u) <(echo "$runtime"))
    echo "binary's packages (direct): $(echo $direct)"
    echo "runtime stage installs:     $(echo $runtime)"
    [ -z "$missing" ] || fail "the runtime stage lacks: $missing"
    [ -z "$extra" ] || fail "the runtime stage installs libraries the binary does not use: $extra"
    ;;
  image-build-packages)
    # The build stage installs packages of deploy/common.sh's list only.
    # shellcheck disable=SC1091
    source "$ROOT/deploy/common.sh"
    build=$(sed -n '/^FROM .* AS build/,/^FROM /p' "$ROOT/Dockerfile" | sed -n '/apt-get install/,/rm -rf/p' |
      tr -s ' \\\n' '\n' | grep -E '^[a-z0-9][a-z0-9.+-]+$' | grep -vE '^(apt-get|install|rm|DEBIAN_FRONTEND=.*|y|no|recommends)$' | sort -u)
    extra=$(comm -23 <(echo "$build") <(printf '%s\n' "${PACKAGES[@]}" | sort -u))
    [ -z "$extra" ] || fail "the build stage installs packages deploy/common.sh does not: $extra"
    note "build stage packages ⊆ deploy/common.sh: $(echo $build | wc -w) packages"
    ;;
  openapi-lint)
    out=$(cd "$TOOLS" && "$BIN/spectral" lint --ruleset "$ROOT/api/.spectral.yaml" --fail-severity warn \
      "$ROOT/api/openapi.yaml" 2>&1) || { echo "$out"; fail "spectral lint api/openapi.yaml"; }
    echo "$out"
    ;;
  openapi-routes)
    # The contract's operations are exactly the routes the code serves.
    table=${2:?route table binary}
    "$table" | sort >"$WORK/code"
    (cd "$TOOLS" && node "$ROOT/tests/deploy/openapi_operations.mjs" "$ROOT/api/openapi.yaml") >"$WORK/spec"
    if ! diff -u --label "route table (code)" --label "api/openapi.yaml" "$WORK/code" "$WORK/spec"; then
      fail "api/openapi.yaml and the route table differ (- only in the code, + only in the spec): see deploy/README.md, \"Adding a route to the contract\""
    fi
    note "$(wc -l <"$WORK/code") operations, the same in the code and in api/openapi.yaml"
    ;;
  config-variables)
    # Every ATENDEAI_* variable the production files hand to a node is a configuration key
    # (config/atendeai.example.toml): the node refuses any other at start.
    keys=$(awk '/^\[/ {gsub(/[][]/, ""); section=toupper($0)} /^[a-z_]+ = / {print "ATENDEAI_" section "_" toupper($1)}' \
      "$ROOT/config/atendeai.example.toml" | sort -u)
    # (Not comments; not CMake's -DATENDEAI_ options; ATENDEAI_CONFIG names the TOML file;
    # ATENDEAI_IMAGE is compose's own variable, the image tag.)
    used=$(cat "$ROOT/Dockerfile" "$ROOT"/deploy/compose/compose.yaml "$ROOT"/deploy/compose/make-secrets \
      "$ROOT"/deploy/kubernetes/*.yaml "$ROOT"/deploy/systemd/* | grep -vE '^[[:space:]]*#' | sed 's/-DATENDEAI_[A-Z_]*//g' |
      grep -oE 'ATENDEAI_[A-Z0-9_]+' | sort -u | grep -vxE 'ATENDEAI_(IMAGE|CONFIG)' || true)
    unknown=$(comm -23 <(echo "$used") <(echo "$keys"))
    [ -z "$unknown" ] || fail "not configuration keys (the node would refuse them): $unknown"
    note "$(wc -l <<<"$used") ATENDEAI_* variables in the production files, all configuration keys"
    ;;
  *) fail "unknown check $1" ;;
esac
