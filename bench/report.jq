# Markdown tables of bench/run's load scenarios, from {"<scenario>": its JSON, ...} in run
# order as [{name, r}] (input). Resident, booking and cluster tables are bench/run's own.

def num(n): if . == null then "-" else (. * pow(10; n) | round / pow(10; n) | tostring) end;
def int: if . == null then "-" else (. | floor | tostring) end;
def load_runs: map(select(.r.latency_ms != null and (.name | test("^(resident|booking|cluster)") | not)));
def row(cells): "| " + (cells | map(tostring) | join(" | ")) + " |";
def verdict(ok): if ok == null then "n/a" elif ok then "pass" else "miss" end;

. as $all
| ($all | load_runs) as $runs
| if ($runs | length) == 0 then empty else
[
    "| scenario | mode | conns | msgs/POST | clinics | target/s | acked msg/s | p50 ms | p95 ms | p99 ms | max ms | reply p99 ms | replies/s during run | replies drain s | lost | 5xx |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ($runs[] | .name as $n | .r | row([$n, (.mode // "-"), (.connections // "-"), (.per_request // 1), (.clinics // "-"),
        .target_rate, (.acked_messages_per_s | int), (.latency_ms.p50 | num(2)), (.latency_ms.p95 | num(2)),
        (.latency_ms.p99 | num(2)), (.latency_ms.max | num(2)), (.reply_at_sink_ms.p99 // "-"),
        (.replies.per_s_during_run | int), (.replies.drain_s | num(2)), (.lost // "-"), .status_5xx])),
    "",
    "CPU per acknowledged message, µs (user + system, from /proc and the generator's getrusage):",
    "",
    "| scenario | node | PostgreSQL | generator | sink | node+PG+gen+sink | Redis |",
    "|---|---|---|---|---|---|---|",
    ($runs[] | select(.r.cpu_us_per_msg != null) | .name as $n | .r.cpu_us_per_msg
      | row([$n, (.node | num(1)), (.postgres | num(1)), (.generator | num(1)), (.sink | num(1)), (.total | num(1)),
             (.redis | num(1))])),
    "",
    "PostgreSQL per acknowledged message (pg_stat_statements with track = \(($runs | map(.r.db.pg_stat_statements_track // empty) | first) // "-"); pg_stat_user_tables of schema atendeai; WAL from pg_current_wal_lsn()):",
    "",
    "| scenario | statements | top-level | shared blks hit | blks read | tuples read (seq + idx) | tuples written (ins/upd/del) | non-HOT updates | WAL bytes |",
    "|---|---|---|---|---|---|---|---|---|",
    ($runs[] | select(.r.db != null) | .name as $n | .r.db
      | row([$n, (.statements_per_msg | num(3)), (.toplevel_statements_per_msg | num(3)),
             (.shared_blks_hit_per_msg | num(1)), (.shared_blks_read_per_msg | num(2)),
             "\(.tuples_read_per_msg | num(1)) (\(.seq_tup_read_per_msg | num(1)) + \(.idx_tup_fetch_per_msg | num(1)))",
             "\(.tuples_written_per_msg | num(2)) (\(.tuples_inserted_per_msg | num(2))/\(.tuples_updated_per_msg | num(2))/\(.tuples_deleted_per_msg | num(2)))",
             (.non_hot_updates_per_msg | num(2)), (.wal_bytes_per_msg | int)]))
  ]
+ (
    # Sweeps: the counts that must stay flat.
    [$runs[] | select(.name | test("^clinics-"))] as $cs
    | [$runs[] | select(.name | test("^history-"))] as $hs
    | (if ($cs | length) > 0 then
        ["", "Clinic sweep (same load, fresh patients, spread over N clinics):", "",
         "| clinics | acked msg/s | statements/msg | shared blks hit/msg | tuples read/msg | tuples written/msg | CPU µs/msg |",
         "|---|---|---|---|---|---|---|",
         ($cs[] | .r | row([.clinics, (.acked_messages_per_s | int), (.db.statements_per_msg | num(3)),
            (.db.shared_blks_hit_per_msg | num(1)), (.db.tuples_read_per_msg | num(1)),
            (.db.tuples_written_per_msg | num(2)), (.cpu_us_per_msg.total | num(1))]))]
       else [] end)
    + (if ($hs | length) > 0 then
        ["", "History sweep (one clinic; the same probe at each size; no ANALYZE in between):", "",
         "| conversations | contacts | messages | acked msg/s | statements/msg | shared blks hit/msg | tuples read/msg | tuples written/msg | WAL bytes/msg |",
         "|---|---|---|---|---|---|---|---|---|",
         ($hs[] | .r | row([.history_conversations, .history_contacts, .messages_acked, (.acked_messages_per_s | int),
            (.db.statements_per_msg | num(3)), (.db.shared_blks_hit_per_msg | num(1)), (.db.tuples_read_per_msg | num(1)),
            (.db.tuples_written_per_msg | num(2)), (.db.wal_bytes_per_msg | int)]))]
        + ([ "returning", "new" ] | map(. as $kind
            | [$hs[] | select(.r.history_contacts == $kind) | .r] as $k
            | if ($k | length) > 1 then
                ($k | first) as $a | ($k | last) as $b
                | "History \($kind) contacts, \($b.history_conversations) vs \($a.history_conversations) conversations: shared blks hit/msg \(if $a.db.shared_blks_hit_per_msg > 0 then ($b.db.shared_blks_hit_per_msg / $a.db.shared_blks_hit_per_msg | num(2)) else "-" end)×, tuples read/msg \(if $a.db.tuples_read_per_msg > 0 then ($b.db.tuples_read_per_msg / $a.db.tuples_read_per_msg | num(2)) else "-" end)×"
              else empty end) | if length > 0 then [""] + . else . end)
       else [] end)
  )
+ (
    # Targets of issue 14, next to the figures.
    ([$runs[] | select(.name | test("^throughput"))] | max_by(.r.acked_messages_per_s)) as $best
    | ($all | map(select(.name == "latency-5000")) | first) as $l5
    | ($all | map(select(.name == "latency-10000")) | first) as $l10
    | ($all | map(select(.name == "contacts-returning")) | first) as $cr
    | ($all | map(select(.name == "contacts-new")) | first) as $cn
    | ($best.r.duration_s // 0) as $d
    | (if $best != null and $d < 59 then " (a \($d | floor) s run, not 60 s)" else "" end) as $short
    | ["", "Targets (issue 14, this machine):", "",
       "| target | figure | run | result |", "|---|---|---|---|",
       row(["≥ 10,000 acknowledged msg/s sustained for 60 s", ($best.r.acked_messages_per_s | int), ($best.name // "-"),
            verdict(if $best == null then null else $best.r.acked_messages_per_s >= 10000 end) + $short]),
       row(["replies at the sink ≥ 95 % of the acknowledgement rate during the run",
            (if $best.r.replies.ratio_to_acked == null then "-" else "\($best.r.replies.ratio_to_acked * 100 | num(1)) %" end),
            ($best.name // "-"),
            verdict(if $best.r.replies.ratio_to_acked == null then null else $best.r.replies.ratio_to_acked >= 0.95 end) + $short]),
       row(["every reply at the sink within 10 s after the run",
            (if $best.r.replies == null then "-" elif $best.r.replies.complete then "\($best.r.replies.drain_s | num(1)) s" else "incomplete" end),
            ($best.name // "-"),
            verdict(if $best.r.replies == null then null else ($best.r.replies.complete and $best.r.replies.drain_s <= 10) end)]),
       row(["webhook p99 < 50 ms at 5,000 msg/s open loop",
            (if $l5 == null then "-" else "\($l5.r.latency_ms.p99 | num(1)) ms\(if $l5.r.kept_up then "" else " (did not keep up: \($l5.r.acked_messages_per_s | int)/s)" end)" end),
            ($l5.name // "no 5,000/s run"),
            verdict(if $l5 == null then null else ($l5.r.kept_up and $l5.r.latency_ms.p99 < 50) end)]),
       row(["webhook p99 at 10,000 msg/s open loop (reported)",
            (if $l10 == null then "-" else "\($l10.r.latency_ms.p99 | num(1)) ms, reply p99 \($l10.r.reply_at_sink_ms.p99 // "-") ms\(if $l10.r.kept_up then "" else " (did not keep up: \($l10.r.acked_messages_per_s | int)/s)" end)" end),
            ($l10.name // "no 10,000/s run"), "-"]),
       row(["≤ 0.2 statements per message (pg_stat_statements, nested included)",
            (if $best.r.db.pg_stat_statements_track == "all" then ($best.r.db.statements_per_msg | num(3))
             else "- (pg_stat_statements.track = \($best.r.db.pg_stat_statements_track // "none"))" end),
            ($best.name // "-"),
            verdict(if $best.r.db.statements_per_msg == null or $best.r.db.pg_stat_statements_track != "all" then null
                    else $best.r.db.statements_per_msg <= 0.2 end)]),
       row(["≤ 3 tuples written per message, returning contacts", ($cr.r.db.tuples_written_per_msg | num(2)),
            ($cr.name // "no contacts run"),
            verdict(if $cr.r.db.tuples_written_per_msg == null then null else $cr.r.db.tuples_written_per_msg <= 3 end)]),
       row(["≤ 5 tuples written per message, new contacts", ($cn.r.db.tuples_written_per_msg | num(2)),
            ($cn.name // "no contacts run"),
            verdict(if $cn.r.db.tuples_written_per_msg == null then null else $cn.r.db.tuples_written_per_msg <= 5 end)]),
       row(["node + PostgreSQL + generator + sink ≤ 200 µs CPU per message",
            (if $best.r.cpu_us_per_msg.total == null then "-" else "\($best.r.cpu_us_per_msg.total | num(1)) µs" end),
            ($best.name // "-"),
            verdict(if $best.r.cpu_us_per_msg.total == null then null else $best.r.cpu_us_per_msg.total <= 200 end)])]
  )
| .[]
end
