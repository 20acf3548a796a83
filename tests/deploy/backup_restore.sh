#!/usr/bin/env bash
# Backups under traffic (issue 24): a PostgreSQL archiving its WAL through
# deploy/backup, a node taking signed webhooks and API bookings; a base backup taken
# while they flow; a named recovery point; more traffic after it; the primary lost
# (immediate stop); deploy/restore into a fresh data directory and a fresh PostgreSQL.
# The restored database holds every message (by wamid) and every appointment (by id)
# acknowledged before the recovery point, the same row counts as at the point, and
# nothing written after it; a logical dump (deploy/backup dump) of the same moment
# restores with the same counts.
#   backup_restore.sh BINARY
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/node_lib.sh"
NODE_BINARY=${1:?binary}
dir=$(test_dir backup)
WATCH_DIR=$dir
NODE_VAR=$dir/var
mkdir -p "$NODE_VAR" "$dir/tools" "$dir/backups/wal"
LOOPS=()
trap 'for p in "${LOOPS[@]}"; do kill "$p" 2>/dev/null || true; done; cleanup_node_; cleanup_test_' EXIT
# PostgreSQL runs the archive command as its own user: a copy of the script where it can read it.
cp "$TEST_ROOT/deploy/backup" "$dir/tools/backup"
chmod 755 "$dir/tools" "$dir/tools/backup"
[ "$(id -u)" = 0 ] && chown -R postgres:postgres "$dir/backups"

port=$(free_ports 3)
pg=$port http=$((port + 1)) pg2=$((port + 2))
url="postgresql://atendeai@127.0.0.1:$pg/atendeai"
note "PostgreSQL on $pg archiving its WAL with deploy/backup wal"
mkdir -p "$dir/pg" "$dir/sock"
[ "$(id -u)" = 0 ] && chown postgres:postgres "$dir/pg" "$dir/sock"
chmod 700 "$dir/pg"
as_db_user "$PG_BIN/initdb" -D "$dir/pg" -U atendeai --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
as_db_user "$PG_BIN/pg_ctl" -D "$dir/pg" -l "$dir/pg/server.log" -w -t 60 start -o "-p $pg -k $dir/sock \
  -c listen_addresses=127.0.0.1 -c wal_level=replica -c archive_mode=on -c archive_timeout=60 \
  -c archive_command='bash $dir/tools/backup wal %p %f $dir/backups/wal'" >/dev/null
"$PG_BIN/createdb" -h 127.0.0.1 -p "$pg" -U atendeai atendeai

export ATENDEAI_DATABASE_URL=$url ATENDEAI_REDIS_URL=$ATENDEAI_TEST_REDIS_URL ATENDEAI_CLUSTER_NAME=backup-$RANDOM
start_node "$dir/node.log" --http-port "$http" --auth-rate-auth-per-minute 1000 --auth-rate-api-per-minute 100000
api="http://127.0.0.1:$http"
wait_node "$api/health"
token=$(login "$api" admin@clinica-exemplo.local "$(demo_password admin@clinica-exemplo.local)" || true)
[ -n "$token" ] && [ "$token" != null ] || fail "could not log in as the demo clinic's admin"
auth=(-H "Authorization: Bearer $token")
clinic=$(curl -sf "${auth[@]}" "$api/api/v1/auth/profile" | jq -r .clinic_id)
service=$(curl -sf "${auth[@]}" "$api/api/v1/clinics/$clinic/services" | jq -r '[.items[] | select(.active)][0].id')
professional=$(curl -sf "${auth[@]}" "$api/api/v1/clinics/$clinic/professionals" |
  jq -r --arg s "$service" '[.items[] | select(.active and (.service_ids | index($s)))][0].id')
from=$(date -u -d '+2 days' +%F) to=$(date -u -d '+20 days' +%F)
curl -sf "${auth[@]}" "$api/api/v1/clinics/$clinic/slots?service_id=$service&professional_id=$professional&from=$from&to=$to" |
  jq -r '.slots[].starts_at' >"$dir/slots"
[ "$(wc -l <"$dir/slots")" -ge 40 ] || fail "too few free slots to book: $(wc -l <"$dir/slots")"

# webhooks TAG N: N signed webhooks, one after the other; acknowledged wamids to acked.TAG.
webhooks() {
  local i code
  for i in $(seq 1 "$2"); do
    code=$(post_webhook "$api/webhooks/whatsapp" "wamid.backup.$1.$i" "oi $i") || true
    if [ "$code" = 200 ]; then echo "wamid.backup.$1.$i" >>"$dir/acked.$1"; fi
  done
}
# bookings TAG FIRST LAST: books slots FIRST..LAST; acknowledged appointment ids to booked.TAG.
bookings() {
  local i slot out
  for i in $(seq "$2" "$3"); do
    slot=$(sed -n "${i}p" "$dir/slots")
    out=$(curl -s -w '\n%{http_code}' "${auth[@]}" -H 'Content-Type: application/json' \
      -d "{\"service_id\":\"$service\",\"professional_id\":\"$professional\",\"starts_at\":\"$slot\",\"patient\":{\"phone\":\"+55 11 9$(printf '%04d' "$i")-0000\",\"name\":\"Paciente $i\"}}" \
      "$api/api/v1/clinics/$clinic/appointments") || true
    if [ "$(tail -n 1 <<<"$out")" = 201 ]; then head -n 1 <<<"$out" | jq -r .id >>"$dir/booked.$1"; fi
  done
}

note "traffic: webhooks on two connections and bookings, a base backup meanwhile"
webhooks a 150 & LOOPS+=($!)
webhooks b 150 & LOOPS+=($!)
bookings a 1 15 & LOOPS+=($!)
sleep 1
base=$(bash "$TEST_ROOT/deploy/backup" base "$url" "$dir/backups") || fail "deploy/backup base"
note "base backup $(basename "$base") taken under traffic ($(cat "$dir"/acked.* 2>/dev/null | wc -l) messages acknowledged so far)"
bookings a 16 30
for p in "${LOOPS[@]}"; do wait "$p"; done
LOOPS=()
acked=$(cat "$dir"/acked.a "$dir"/acked.b | sort -u)
booked=$(sort -u "$dir/booked.a")
[ "$(wc -l <<<"$acked")" -ge 250 ] || fail "too few webhooks acknowledged: $(wc -l <<<"$acked")"
[ "$(wc -l <<<"$booked")" -ge 20 ] || fail "too few appointments booked: $(wc -l <<<"$booked")"

count() { "$PG_BIN/psql" -X -qtA "$1" -c "$2"; }
point=$(bash "$TEST_ROOT/deploy/backup" mark "$url" before-loss "$dir/backups/wal") || fail "deploy/backup mark"
messages_at_point=$(count "$url" "SELECT count(*) FROM atendeai.inbound_messages")
appointments_at_point=$(count "$url" "SELECT count(*) FROM atendeai.appointments")
outbound_at_point=$(count "$url" "SELECT count(*) FROM atendeai.outbound_messages")
note "recovery point $point: $messages_at_point messages, $appointments_at_point appointments, $outbound_at_point replies"
bash "$TEST_ROOT/deploy/backup" dump "$url" "$dir/backups/atendeai.dump" || fail "deploy/backup dump"
# Nothing was in flight at the point (the loops ended): what is counted is all acknowledged.
webhooks late 20
bookings late 31 33
[ -s "$dir/acked.late" ] || fail "no webhook acknowledged after the point"
as_db_user "$PG_BIN/psql" -X -qtA "$url" -c "SELECT pg_switch_wal()" >/dev/null

note "the primary is lost: node stopped, PostgreSQL stopped immediately"
stop_node
as_db_user "$PG_BIN/pg_ctl" -D "$dir/pg" -m immediate -w stop >/dev/null

note "deploy/restore into a fresh data directory, to the recovery point"
bash "$TEST_ROOT/deploy/restore" "$dir/backups" "$dir/restored" --target-name before-loss || fail "deploy/restore"
as_db_user "$PG_BIN/pg_ctl" -D "$dir/restored" -l "$dir/sock/restored.log" -w -t 120 start \
  -o "-p $pg2 -k $dir/sock -c listen_addresses=127.0.0.1" >/dev/null || { tail -n 30 "$dir/sock/restored.log"; fail "restored PostgreSQL did not start"; }
url2="postgresql://atendeai@127.0.0.1:$pg2/atendeai"
for _ in $(seq 1 300); do
  [ "$(count "$url2" "SELECT pg_is_in_recovery()" 2>/dev/null)" = f ] && break
  sleep 0.2
done
[ "$(count "$url2" "SELECT pg_is_in_recovery()")" = f ] || { tail -n 30 "$dir/sock/restored.log"; fail "the restored server did not finish recovery"; }
grep -q 'recovery stopping at restore point "before-loss"' "$dir/sock/restored.log" ||
  { tail -n 30 "$dir/sock/restored.log"; fail "recovery did not stop at the named point"; }

restored_messages=$(count "$url2" "SELECT external_id FROM atendeai.inbound_messages" | sort -u)
missing=$(comm -23 <(echo "$acked") <(echo "$restored_messages"))
[ -z "$missing" ] || fail "acknowledged messages missing after the restore: $(wc -l <<<"$missing") (first: $(head -n 1 <<<"$missing"))"
restored_appointments=$(count "$url2" "SELECT id FROM atendeai.appointments" | sort -u)
missing=$(comm -23 <(echo "$booked") <(echo "$restored_appointments"))
[ -z "$missing" ] || fail "acknowledged appointments missing after the restore: $missing"
[ "$(count "$url2" "SELECT count(*) FROM atendeai.inbound_messages")" = "$messages_at_point" ] || fail "message count differs from the point"
[ "$(count "$url2" "SELECT count(*) FROM atendeai.appointments")" = "$appointments_at_point" ] || fail "appointment count differs from the point"
[ "$(count "$url2" "SELECT count(*) FROM atendeai.outbound_messages")" = "$outbound_at_point" ] || fail "reply count differs from the point"
late=$(count "$url2" "SELECT count(*) FROM atendeai.inbound_messages WHERE external_id LIKE 'wamid.backup.late.%'")
[ "$late" = 0 ] || fail "$late messages from after the point were restored"
note "restored: all $(wc -l <<<"$acked") acknowledged messages and $(wc -l <<<"$booked") appointments, counts equal to the point's, nothing after it"

note "the logical dump of the same moment restores into a fresh database with the same counts"
"$PG_BIN/createdb" -h 127.0.0.1 -p "$pg2" -U atendeai fromdump
"$PG_BIN/pg_restore" -h 127.0.0.1 -p "$pg2" -U atendeai -d fromdump --exit-on-error "$dir/backups/atendeai.dump" ||
  fail "pg_restore of deploy/backup dump"
url3="postgresql://atendeai@127.0.0.1:$pg2/fromdump"
[ "$(count "$url3" "SELECT count(*) FROM atendeai.inbound_messages")" = "$messages_at_point" ] &&
  [ "$(count "$url3" "SELECT count(*) FROM atendeai.appointments")" = "$appointments_at_point" ] ||
  fail "the dump's counts differ from the point's"

note "a node starts on the restored database"
export ATENDEAI_DATABASE_URL=$url2
start_node "$dir/node2.log" --http-port "$http" --auth-rate-api-per-minute 100000
wait_node "$api/health"
[ "$(curl -sf "${auth[@]}" "$api/api/v1/clinics/$clinic/appointments/$(head -n 1 <<<"$booked")" | jq -r .id)" = "$(head -n 1 <<<"$booked")" ] ||
  fail "the node on the restored database does not find a restored appointment"
stop_node
as_db_user "$PG_BIN/pg_ctl" -D "$dir/restored" -m fast -w stop >/dev/null
