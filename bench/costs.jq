# The generator's summary (input) plus what became of the run and what it cost per
# acknowledged message. bench/run's measure() passes:
#   $s0, $s1    snapshots before the run and once PostgreSQL's counters settled after it
#   $c1         the CPU snapshot right after the replies reached the sink (+1 s)
#   $replies    wait_replies' JSON (the sink's view of the run)
#   $stored     inbound messages of the run in PostgreSQL
#   $dbwait     seconds PostgreSQL still needed (after the settle) to show every message
#               answered and no pending outbox row; -1: not within 120 s
#   $since      seconds from the generator's end to that check's end
#   $tck        clock ticks per second; $pgss_track: pg_stat_statements.track ("none": absent)

def delta(a; b): if a == null or b == null then null else b - a end;
def per(x; n): if x == null or n == 0 then null else x / n end;
def us_per(ticks; n): if ticks == null or n == 0 then null else ticks / $tck * 1e6 / n end;

. as $g
| ($g.messages_acked) as $n
| ($s0.db.tables) as $ta | ($s1.db.tables) as $tb
| ($s0.db.statements) as $pa | ($s1.db.statements) as $pb
| (if $ta == null or $tb == null then null
   else reduce ($tb | keys[]) as $k ({}; .[$k] = $tb[$k] - $ta[$k]) end) as $t
| (if $pa == null or $pb == null then null
   else reduce ($pb | keys[]) as $k ({}; .[$k] = $pb[$k] - $pa[$k]) end) as $p
| {node: delta($s0.cpu.node; $c1.cpu.node), postgres: delta($s0.cpu.postgres; $c1.cpu.postgres),
   sink: delta($s0.cpu.sink; $c1.cpu.sink), redis: delta($s0.cpu.redis; $c1.cpu.redis)} as $cpu
| {node: us_per($cpu.node; $n), postgres: us_per($cpu.postgres; $n),
   generator: (if $n > 0 then $g.cpu_s * 1e6 / $n else null end), sink: us_per($cpu.sink; $n),
   redis: us_per($cpu.redis; $n)} as $us
| $g + {
    stored_in_postgres: $stored,
    lost: ([$n - $stored, 0] | max),
    outbox_drain_s: (if $dbwait < 0 then -1
                     elif $dbwait == 0 and $replies.drain_s >= 0 then ($replies.drain_s | ceil)
                     else $since end),
    replies: $replies,
    cpu_s: {node: (if $cpu.node == null then null else $cpu.node / $tck end),
            postgres: (if $cpu.postgres == null then null else $cpu.postgres / $tck end),
            generator: $g.cpu_s,
            sink: (if $cpu.sink == null then null else $cpu.sink / $tck end),
            redis: (if $cpu.redis == null then null else $cpu.redis / $tck end),
            window_s: ($c1.t - $s0.t)},
    cpu_us_per_msg: ($us + {total: (if [$us.node, $us.postgres, $us.generator, $us.sink] | any(. == null) then null
                                   else $us.node + $us.postgres + $us.generator + $us.sink end)}),
    db: {
      pg_stat_statements_track: $pgss_track,
      statements_per_msg: per($p.calls; $n),
      toplevel_statements_per_msg: per($p.toplevel_calls; $n),
      shared_blks_hit_per_msg: per($p.shared_blks_hit; $n),
      shared_blks_read_per_msg: per($p.shared_blks_read; $n),
      statement_rows_per_msg: per($p.rows; $n),
      tuples_inserted_per_msg: per($t.n_tup_ins; $n),
      tuples_updated_per_msg: per($t.n_tup_upd; $n),
      tuples_deleted_per_msg: per($t.n_tup_del; $n),
      tuples_written_per_msg: per(if $t == null then null else $t.n_tup_ins + $t.n_tup_upd + $t.n_tup_del end; $n),
      non_hot_updates_per_msg: per(if $t == null then null else $t.n_tup_upd - $t.n_tup_hot_upd end; $n),
      seq_tup_read_per_msg: per($t.seq_tup_read; $n),
      idx_tup_fetch_per_msg: per($t.idx_tup_fetch; $n),
      tuples_read_per_msg: per(if $t == null then null else $t.seq_tup_read + $t.idx_tup_fetch end; $n),
      wal_bytes_per_msg: per(delta($s0.db.wal_lsn_bytes; $s1.db.wal_lsn_bytes); $n),
      totals: {statements: $p, tables: $t, wal_bytes: delta($s0.db.wal_lsn_bytes; $s1.db.wal_lsn_bytes),
               window_s: ($s1.t - $s0.t)}
    }
  }
