#!/usr/bin/env bash
# The dependency arrows between the source folders (README, "Layout"), checked on every
# project include ("folder/file.hpp"): a folder may include itself and the folders its
# arrows point to, nothing else. Prints each forbidden include and fails when there is one.
#
#   core/        → (nothing)
#   config/      → core
#   persistence/ → core
#   actors/      → core, persistence, config            (never api/, http/, app/)
#   api/         → core, persistence, config, the actors' typed interfaces
#   http/        → core, config, the actors' typed interfaces  (never persistence/, api/)
#   app/         → everything
#
# The actors' typed interfaces are the headers below: the message protocol, the node's
# wiring and the gateway; never an actor's own header or source.
#
#   bash include_arrows.sh [ROOT]     check the tree at ROOT (default: this checkout)
#   bash include_arrows.sh --self-test  check that a planted forbidden include is caught
set -euo pipefail

ACTOR_INTERFACES="actors/interfaces.hpp actors/node_context.hpp actors/api_request.hpp actors/responder.hpp
  actors/messages.hpp actors/cluster_messages.hpp actors/inspect_messages.hpp actors/scheduling_messages.hpp
  actors/gateway.hpp"

# allowed FOLDER: the folders (and single headers) FOLDER may include.
allowed() {
  case $1 in
    core) echo "core" ;;
    config) echo "config core" ;;
    persistence) echo "persistence core" ;;
    actors) echo "actors core persistence config" ;;
    api) echo "api core persistence config $ACTOR_INTERFACES" ;;
    http) echo "http core config $ACTOR_INTERFACES" ;;
    app) echo "app api http actors persistence config core" ;;
  esac
}

check() {
  local root=$1 bad=0 folder file target ok a
  for folder in core config persistence actors api http app; do
    [ -d "$root/$folder" ] || continue
    while IFS=: read -r file _ target; do
      target=${target#*\"}
      target=${target%%\"*}
      case $target in */*) ;; *) continue ;; esac # "file.hpp": not a project folder
      [ -d "$root/${target%%/*}" ] || continue     # a third-party header, not a folder of ours
      ok=0
      for a in $(allowed "$folder"); do
        if [ "$target" = "$a" ] || [ "${target%%/*}" = "$a" ]; then ok=1; break; fi
      done
      if [ "$ok" = 0 ]; then
        echo "forbidden arrow: ${file#$root/} includes $target ($folder/ → ${target%%/*}/)"
        bad=1
      fi
    done < <(grep -rn --include='*.hpp' --include='*.cpp' --include='*.h' -E '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$root/$folder" || true)
  done
  return $bad
}

self_test() {
  local tmp
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  mkdir -p "$tmp"/{core,config,persistence,actors,api,http,app}
  echo '#include "core/a.hpp"' >"$tmp/core/a.cpp"
  printf '#include "core/a.hpp"\n#include "persistence/b.hpp"\n' >"$tmp/actors/ok.cpp"
  printf '#include "actors/interfaces.hpp"\n#include "persistence/b.hpp"\n' >"$tmp/api/ok.cpp"
  printf '#include "api/worker.hpp"\n#include "actors/node.hpp"\n' >"$tmp/app/ok.cpp"
  check "$tmp" >/dev/null || { echo "self-test: a clean tree was refused"; return 1; }
  local planted=("actors/x.cpp:api/worker.hpp" "http/x.cpp:persistence/database.hpp" "http/y.cpp:api/call.hpp"
    "api/x.cpp:actors/clinic.hpp" "api/y.cpp:http/server.hpp" "core/x.cpp:actors/interfaces.hpp"
    "persistence/x.cpp:actors/messages.hpp")
  local p out
  for p in "${planted[@]}"; do
    echo "#include \"${p#*:}\"" >"$tmp/${p%%:*}"
    if out=$(check "$tmp"); then
      echo "self-test: ${p%%:*} including ${p#*:} was not caught"
      return 1
    fi
    case $out in *"${p%%:*} includes ${p#*:}"*) ;; *) echo "self-test: wrong report: $out"; return 1 ;; esac
    rm "$tmp/${p%%:*}"
  done
  echo "self-test: every planted forbidden arrow was caught"
}

if [ "${1:-}" = --self-test ]; then
  self_test
else
  root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
  if check "$root"; then
    echo "include arrows: ok"
  else
    exit 1
  fi
fi
