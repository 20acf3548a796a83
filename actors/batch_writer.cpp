#include "actors/batch_writer.hpp"

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <algorithm>
#include <map>
#include <optional>
#include <thread>

#include <caf/all.hpp>

#include "actors/test_hooks.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"
#include "core/json_text.hpp"
#include "core/log.hpp"
#include "core/whatsapp.hpp"
#include "persistence/audit.hpp"
#include "persistence/privacy.hpp"
#include "persistence/database.hpp"
#include "persistence/pipeline.hpp"

namespace atendeai::actors {

namespace {

using steady = std::chrono::steady_clock;

/// PostgreSQL is away (or the connection broke): nothing of the batch is written.
bool unavailable(const std::exception& e) {
  return dynamic_cast<const persistence::unavailable*>(&e) != nullptr
         || dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr;
}

/// A deadlock or serialization failure: the same rows may well pass again.
bool transient(const std::exception& e) {
  return dynamic_cast<const pqxx::transaction_rollback*>(&e) != nullptr;
}

/// A channel timestamp PostgreSQL can store (year 1970..9999), as ISO 8601; else null.
void sent_at_of(core::json_text& out, int64_t seconds) {
  if (seconds <= 0 || seconds > 253402300799) {
    out.null();
    return;
  }
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  out.string(buf);
}

/// Text PostgreSQL refuses in text and jsonb (NUL) replaced by U+FFFD.
std::string storable(std::string s) {
  for (size_t i = s.find('\0'); i != std::string::npos; i = s.find('\0', i + 3))
    s.replace(i, 1, "\xEF\xBF\xBD");
  return s;
}

/// One row of an ingest batch: a message or a status of one of the batch's requests.
struct ingest_row {
  size_t request = 0;
  bool status = false;
  size_t index = 0;      ///< in the request's messages or statuses
  std::string id;        ///< the message's id, made here
  bool hardened = false; ///< written again reduced to what PostgreSQL surely stores
  bool refused = false;  ///< dropped for its content: never storable, so acknowledged
  std::optional<persistence::ingest_result> result; ///< once written
};

/// One flush of webhooks.
struct ingest_flush {
  std::vector<webhook_request> reqs;
  std::vector<ingest_row> rows;
  std::vector<bool> away; ///< per request: PostgreSQL was away for one of its rows
};

/// One flush of records: what was written, and what is kept through an outage.
struct record_flush {
  std::vector<reply_record> recs;
  std::vector<delivery_record> dels;
  std::map<std::string, std::string> touched; ///< conversation → clinic, written behind
  std::vector<std::optional<persistence::outcome_result>> results; ///< per record, once written
  std::vector<reply_record> held_recs;
  std::vector<delivery_record> held_dels;
  bool away = false;     ///< PostgreSQL went away during the flush
  size_t rows = 0;       ///< rows committed
  size_t final_deliveries = 0; ///< delivery outcomes committed that end an outbox row
};

const char* kind_name(reply_record::cause_kind k) {
  switch (k) {
  case reply_record::cause_kind::reply:
    return "reply";
  case reply_record::cause_kind::staff:
    return "staff";
  case reply_record::cause_kind::notice:
    return "notice";
  case reply_record::cause_kind::none:
    break;
  }
  return nullptr;
}

} // namespace

struct batch_writer_state {
  static constexpr const char* name = "batch_writer";
  batch_writer_actor::pointer self = nullptr;

  // -- data members -----------------------------------------------------------

  node_context_ptr node;
  int index = 0;
  bool ingest_role = false; ///< an ingest writer (else a record writer)
  std::unique_ptr<persistence::db_session> db;
  core::uuid_generator ids;
  std::vector<webhook_request> ingests;
  std::vector<reply_record> replies;
  std::vector<delivery_record> deliveries;
  size_t pending_rows = 0;
  std::optional<steady::time_point> oldest_pending; ///< when the oldest pending write came
  bool flush_queued = false;  ///< a flush message is in the mailbox, behind what came before it
  bool retry_armed = false;   ///< a delayed flush after an outage or for the write-behind
  bool in_outage = false;     ///< the last commit failed because PostgreSQL was away
  int64_t held = 0;           ///< records counted in node->held_records by this writer
  std::map<std::string, std::string> touches; ///< conversation → clinic, written behind
  steady::time_point last_touch_write = steady::now();
  uint64_t batches_committed = 0;
  uint64_t batches_failed = 0;
  int stall_record_ms = 0; ///< test builds: ATENDEAI_TEST_STALL_RECORD_WRITES_MS
  core::histogram* batch_rows_hist = nullptr;
  core::histogram* commit_latency = nullptr;
  core::counter* stored = nullptr;
  core::counter* duplicates = nullptr;
  core::counter* rejected = nullptr;
  core::counter* sanitised = nullptr;
  core::counter* dropped = nullptr;
  core::counter* unknown_account = nullptr;
  core::gauge* outbox_depth = nullptr;
  core::counter* commit_errors = nullptr;

  // -- work -------------------------------------------------------------------

  void init() {
    auto& m = *node->metrics;
    batch_rows_hist = &m.histogram_with("atendeai_batch_rows", "Rows per committed batch", {},
                                        {1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 5000});
    commit_latency = &m.histogram_with("atendeai_batch_commit_seconds", "Time to commit one batch");
    auto outcome = [&](const char* o) {
      return &m.counter_with("atendeai_webhook_messages_total", "Inbound webhook messages by outcome",
                             {{"outcome", o}});
    };
    stored = outcome("stored");
    duplicates = outcome("duplicate");
    rejected = outcome("rejected");
    sanitised = outcome("sanitised");
    dropped = outcome("dropped");
    unknown_account = outcome("unknown_account");
    outbox_depth = &m.gauge_with("atendeai_outbox_depth", "Outbox rows committed and not yet delivered");
    commit_errors = &m.counter_with("atendeai_db_errors_total", "PostgreSQL errors", {{"op", "batch_commit"}});
#ifdef ATENDEAI_TEST_HOOKS
    if (const char* ms = std::getenv("ATENDEAI_TEST_STALL_RECORD_WRITES_MS"))
      stall_record_ms = std::atoi(ms);
#endif
  }

  int64_t now_ms() const { return node->clock->now().time_since_epoch().count(); }

  /// A write arrived: commit now when the batch is full or old enough; else once the
  /// mailbox holds nothing older than this write (a flush message queued behind it). So
  /// a commit starts as soon as the previous one returned, with what came meanwhile.
  void add(size_t rows) {
    pending_rows += rows;
    auto now = steady::now();
    if (!oldest_pending)
      oldest_pending = now;
    const auto& p = node->cfg.persistence;
    if (pending_rows >= static_cast<size_t>(p.batch_max_rows) || p.batch_max_delay_ms == 0
        || now - *oldest_pending >= std::chrono::milliseconds(p.batch_max_delay_ms)) {
      flush();
    } else if (!flush_queued) {
      flush_queued = true;
      self->send(self, flush_atom::value);
    }
  }

  void flush() {
    pending_rows = 0;
    oldest_pending.reset();
    if (ingest_role) {
      if (!ingests.empty())
        flush_ingests(std::exchange(ingests, {}));
      return;
    }
    flush_records();
  }

  /// Tries again later (PostgreSQL away, or rebuildable data to write behind).
  void retry_in(std::chrono::milliseconds delay) {
    if (retry_armed)
      return;
    retry_armed = true;
    self->delayed_send(self, delay, flush_atom::value);
  }

  // -- ingest -----------------------------------------------------------------

  /// Makes webhooks durable: one statement for the whole batch, whatever its clinics;
  /// a row PostgreSQL refuses is isolated (halving) so its neighbours commit.
  void flush_ingests(std::vector<webhook_request> reqs) {
    ingest_flush f;
    f.reqs = std::move(reqs);
    f.away.assign(f.reqs.size(), false);
    auto ms = now_ms();
    for (size_t r = 0; r < f.reqs.size(); ++r) {
      for (size_t i = 0; i < f.reqs[r].messages.size(); ++i) {
        ATENDEAI_CRASH_ONCE_IF_MARKED("ATENDEAI_TEST_CRASH_WRITER_MARKER", f.reqs[r].messages[i].text);
        ingest_row row;
        row.request = r;
        row.index = i;
        row.id = ids.next(ms);
        f.rows.push_back(std::move(row));
      }
      for (size_t i = 0; i < f.reqs[r].statuses.size(); ++i) {
        ingest_row row;
        row.request = r;
        row.status = true;
        row.index = i;
        f.rows.push_back(std::move(row));
      }
    }
    auto started = steady::now();
    write_ingest(f, 0, f.rows.size(), true);
    commit_latency->observe(std::chrono::duration<double>(steady::now() - started).count());
    finish_ingests(f);
  }

  void message_row(core::json_text& out, const ingest_flush& f, size_t ord) const {
    const auto& row = f.rows[ord];
    const auto& m = f.reqs[row.request].messages[row.index];
    std::string text = m.text;
#ifdef ATENDEAI_TEST_HOOKS
    // Test hook: a message PostgreSQL refuses (a NUL the parser would have replaced).
    if (const char* marker = std::getenv("ATENDEAI_TEST_POISON_MARKER"))
      if (*marker && text.find(marker) != std::string::npos)
        text.push_back('\0');
#endif
    // Hardened: the smallest form, the text alone (NULs replaced), no raw content, no
    // channel time.
    core::inbound_message hardened;
    if (row.hardened) {
      hardened.channel = storable(m.channel);
      hardened.account_id = storable(m.account_id);
      hardened.contact = storable(m.contact);
      hardened.external_id = storable(m.external_id);
      hardened.type = storable(m.type);
      hardened.text = storable(text);
      hardened.timestamp = 0;
      hardened.sanitised = true;
    }
    const auto& src = row.hardened ? hardened : m;
    out.begin_object()
      .key("ord").integer(static_cast<int64_t>(ord))
      .key("id").string(row.id)
      .key("channel").string(src.channel)
      .key("account").string(src.account_id)
      .key("contact").string(src.contact)
      .key("contact_name").string_or_null(src.contact_name)
      .key("ext").string(src.external_id)
      .key("type").string(src.type)
      .key("body").string(row.hardened ? hardened.text : text)
      .key("payload");
    core::write_json(out, src);
    out.key("sent_at");
    sent_at_of(out, src.timestamp);
    out.end_object();
  }

  void status_row(core::json_text& out, const ingest_flush& f, size_t ord) const {
    const auto& row = f.rows[ord];
    const auto& s = f.reqs[row.request].statuses[row.index];
    out.begin_object()
      .key("channel").string(s.channel)
      .key("account").string(s.account_id)
      .key("ext").string(s.external_id)
      .key("status").string(s.status)
      .key("error").string_or_null(s.error)
      .end_object();
  }

  /// Writes rows [lo, hi) of the flush in one transaction; on a refusal for content,
  /// halves, then retries a lone message in its smallest form, then drops it.
  void write_ingest(ingest_flush& f, size_t lo, size_t hi, bool retry) {
    if (lo >= hi)
      return;
    try {
      core::json_text messages, statuses;
      messages.begin_array();
      statuses.begin_array();
      for (size_t i = lo; i < hi; ++i) {
        if (f.rows[i].status)
          status_row(statuses, f, i);
        else
          message_row(messages, f, i);
      }
      messages.end_array();
      statuses.end_array();
      auto written = db->run([&](pqxx::connection& c) {
        pqxx::work tx(c);
        auto out = persistence::ingest_batch(tx, messages.str(), statuses.str());
        tx.commit();
        return out;
      });
      ++batches_committed;
      for (auto& r : written)
        if (r.ord >= 0 && static_cast<size_t>(r.ord) < f.rows.size())
          f.rows[static_cast<size_t>(r.ord)].result = std::move(r);
      return;
    } catch (const std::exception& e) {
      ++batches_failed;
      commit_errors->inc();
      core::log_event(spdlog::level::warn, "batch_failed",
                      {{"writer", index}, {"kind", "ingest"}, {"rows", hi - lo}, {"error", e.what()}});
      if (unavailable(e)) {
        db->reset();
        for (size_t i = lo; i < hi; ++i)
          f.away[f.rows[i].request] = true;
        return;
      }
      if (retry && transient(e)) {
        write_ingest(f, lo, hi, false);
        return;
      }
    }
    auto& row = f.rows[lo];
    if (hi - lo > 1) {
      auto mid = lo + (hi - lo) / 2;
      write_ingest(f, lo, mid, true);
      write_ingest(f, mid, hi, true);
    } else if (!row.status && !row.hardened) {
      row.hardened = true;
      write_ingest(f, lo, hi, true);
    } else {
      row.refused = true;
      core::log_event(spdlog::level::err, "webhook_row_dropped",
                      {{"writer", index}, {"kind", row.status ? "status" : "message"},
                       {"correlation_id", f.reqs[row.request].correlation_id}});
    }
  }

  /// Answers every request (200 once all its rows are durable or refused for their
  /// content; 503 when PostgreSQL was away) and hands new messages to the router.
  void finish_ingests(ingest_flush& f) {
    auto busy = core::error_body(core::error_code::database_unavailable, "the message could not be stored; retry later")
                  .dump();
    for (size_t r = 0; r < f.reqs.size(); ++r) {
      if (f.away[r]) {
        rejected->inc(f.reqs[r].messages.size());
        f.reqs[r].responder->respond_with(503, busy, {{"Retry-After", "5"}});
      } else {
        f.reqs[r].responder->respond(200, R"({"status":"ok"})");
      }
    }
#ifdef ATENDEAI_TEST_HOOKS
    // Test hook: die after the inbound commit and its 200, before any reply exists.
    if (std::getenv("ATENDEAI_TEST_CRASH_AFTER_INGEST")
        && std::any_of(f.rows.begin(), f.rows.end(), [](const ingest_row& r) { return r.result && r.result->inserted; })) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200)); // let the 200 leave
      std::_Exit(137);
    }
#endif
    std::vector<stored_message> fresh;
    size_t unknown = 0;
    for (auto& row : f.rows) {
      if (row.status || f.away[row.request])
        continue;
      if (row.refused) {
        dropped->inc();
        continue;
      }
      if (!row.result) {
        ++unknown;
        continue;
      }
      if (!row.result->inserted) {
        duplicates->inc();
        continue;
      }
      stored->inc();
      auto& m = f.reqs[row.request].messages[row.index];
      if (row.hardened || m.sanitised) // made storable here or by the parser
        sanitised->inc();
      if (spdlog::should_log(spdlog::level::info)) // building the fields costs more than the check
        core::log_event(spdlog::level::info, "message_stored",
                        {{"clinic_id", row.result->clinic_id}, {"conversation_id", row.result->conversation_id},
                         {"correlation_id", m.external_id}, {"type", m.type}});
      stored_message sm{row.result->clinic_id, row.result->conversation_id, row.result->message_id,
                        std::move(m)};
      sm.new_conversation = row.result->new_conversation;
      fresh.push_back(std::move(sm));
    }
    if (unknown > 0) {
      unknown_account->inc(unknown);
      core::log_event(spdlog::level::warn, "unknown_channel_account", {{"writer", index}, {"items", unknown}});
    }
    batch_rows_hist->observe(static_cast<double>(f.rows.size()));
    if (!fresh.empty())
      self->send(node->router(), process_atom::value, std::move(fresh));
  }

  // -- records ----------------------------------------------------------------

  void outcome_row(core::json_text& out, const reply_record& r, size_t ord) const {
    auto kind = kind_name(r.kind);
    out.begin_object()
      .key("ord").integer(static_cast<int64_t>(ord))
      .key("clinic").string(r.clinic_id)
      .key("conversation").string(r.conversation_id)
      .key("kind");
    if (kind)
      out.string(kind);
    else
      out.null();
    out.key("cause").string_or_null(r.cause_id)
      .key("id").string(r.outbound_id)
      .key("account").string(r.account_id)
      .key("recipient").string(r.recipient)
      .key("intent").string_or_null(r.intent)
      .key("confidence").number(r.confidence)
      .key("staff_user_id").string_or_null(r.staff_user_id);
    if (r.has_reply) {
      out.key("body").string(storable(r.reply.text)).key("payload");
      core::write_json(out, r.reply);
    }
    if (r.state_changed)
      out.key("state").raw(core::to_json(r.state).dump()).key("handoff").boolean(r.state.handoff);
    out.end_object();
  }

  /// Writes decisions and delivery outcomes (with the conversations' last activity when
  /// it is due); outbound messages go to their senders after the commit.
  void flush_records() {
    auto behind = std::chrono::milliseconds(node->cfg.persistence.write_behind_ms);
    auto touch_due = !touches.empty() && steady::now() - last_touch_write >= behind;
    if (replies.empty() && deliveries.empty() && !touch_due) {
      if (!touches.empty())
        retry_in(behind);
      return;
    }
    record_flush f;
    f.recs = std::exchange(replies, {});
    f.dels = std::exchange(deliveries, {});
    f.results.resize(f.recs.size());
    if (touch_due)
      f.touched = std::exchange(touches, {});
#ifdef ATENDEAI_TEST_HOOKS
    if (stall_record_ms > 0) // test hook: a slow reply write must not hold any acknowledgement
      std::this_thread::sleep_for(std::chrono::milliseconds(stall_record_ms));
#endif
    auto started = steady::now();
    write_records(f, 0, f.recs.size(), 0, f.dels.size(), true, true);
    commit_latency->observe(std::chrono::duration<double>(steady::now() - started).count());
    finish_records(f);
    if (f.away) {
      // PostgreSQL is away: keep what failed, in order and ahead of what came since, until
      // it is back (the conversations count these messages as handled; nothing re-asks).
      core::log_event(spdlog::level::warn, "batch_requeued",
                      {{"writer", index}, {"replies", f.held_recs.size()}, {"deliveries", f.held_dels.size()}});
      touches.insert(f.touched.begin(), f.touched.end());
      for (auto& r : replies)
        f.held_recs.push_back(std::move(r));
      for (auto& d : deliveries)
        f.held_dels.push_back(std::move(d));
      replies = std::move(f.held_recs);
      deliveries = std::move(f.held_dels);
      retry_in(std::chrono::milliseconds(500));
    } else if (touch_due) {
      last_touch_write = steady::now();
    }
    in_outage = f.away;
    count_held();
    if (!touches.empty())
      retry_in(behind);
  }

  /// Keeps node->held_records equal to what this writer holds through an outage.
  void count_held() {
    int64_t now_held = in_outage ? static_cast<int64_t>(replies.size() + deliveries.size()) : 0;
    node->held_records->fetch_add(now_held - held);
    held = now_held;
  }

  /// Writes records [lo, hi) and deliveries [dlo, dhi) of the flush (and the touches) in
  /// one transaction; once PostgreSQL is found away, keeps the rest; on a refusal for
  /// content, halves until the bad row stands alone and gives that one up.
  void write_records(record_flush& f, size_t lo, size_t hi, size_t dlo, size_t dhi, bool with_touches, bool retry) {
    with_touches = with_touches && !f.touched.empty();
    if (lo >= hi && dlo >= dhi && !with_touches)
      return;
    if (f.away) {
      for (size_t i = lo; i < hi; ++i)
        f.held_recs.push_back(std::move(f.recs[i]));
      for (size_t i = dlo; i < dhi; ++i)
        f.held_dels.push_back(std::move(f.dels[i]));
      return;
    }
    try {
      core::json_text outcomes, deliveries_json;
      outcomes.begin_array();
      for (size_t i = lo; i < hi; ++i)
        outcome_row(outcomes, f.recs[i], i);
      outcomes.end_array();
      deliveries_json.begin_array();
      for (size_t i = dlo; i < dhi; ++i) {
        const auto& d = f.dels[i];
        deliveries_json.begin_object()
          .key("clinic").string(d.clinic_id)
          .key("outbound").string(d.outbox_id)
          .key("attempt").integer(d.attempts)
          .key("status").string(d.status)
          .key("error").string_or_null(storable(d.error))
          .key("external_id").string_or_null(d.external_id)
          .end_object();
      }
      deliveries_json.end_array();
      auto written = db->run([&](pqxx::connection& c) {
        pqxx::work tx(c);
        auto out = persistence::record_outcomes(tx, outcomes.str(), deliveries_json.str());
        for (size_t i = lo; i < hi; ++i)
          if (!f.recs[i].erase_mode.empty()) // after everything of its conversation, before its audit row
            f.recs[i].erased = persistence::erase_contact(tx, f.recs[i].clinic_id, "", f.recs[i].conversation_id,
                                                          f.recs[i].erase_mode);
        for (size_t i = lo; i < hi; ++i)
          if (f.recs[i].audit) {
            persistence::set_clinic(tx, f.recs[i].clinic_id);
            persistence::append_audit(tx, *f.recs[i].audit);
          }
        if (with_touches) {
          core::json_text rows;
          rows.begin_array();
          for (auto& [conversation, clinic] : f.touched)
            rows.begin_object().key("clinic").string(clinic).key("conversation").string(conversation).end_object();
          rows.end_array();
          persistence::touch_conversations(tx, rows.str());
        }
        tx.commit();
        return out;
      });
      ++batches_committed;
      for (auto& r : written)
        if (r.ord >= 0 && static_cast<size_t>(r.ord) < f.results.size())
          f.results[static_cast<size_t>(r.ord)] = std::move(r);
      f.rows += (hi - lo) + (dhi - dlo);
      for (size_t i = dlo; i < dhi; ++i)
        f.final_deliveries += f.dels[i].status != "pending";
      return;
    } catch (const std::exception& e) {
      ++batches_failed;
      commit_errors->inc();
      core::log_event(spdlog::level::warn, "batch_failed",
                      {{"writer", index}, {"kind", "record"}, {"rows", (hi - lo) + (dhi - dlo)}, {"error", e.what()}});
      if (unavailable(e)) {
        db->reset();
        f.away = true;
        write_records(f, lo, hi, dlo, dhi, false, false);
        return;
      }
      if (retry && transient(e)) {
        write_records(f, lo, hi, dlo, dhi, with_touches, false);
        return;
      }
    }
    // One bad row must not fail its neighbours: halve until it stands alone.
    if (with_touches) {
      write_records(f, lo, hi, dlo, dhi, false, true);
      write_records(f, 0, 0, 0, 0, true, false);
    } else if ((hi - lo) + (dhi - dlo) > 1) {
      auto mid = lo + (hi - lo) / 2, dmid = dlo + (dhi - dlo) / 2;
      write_records(f, lo, mid, dlo, dmid, false, true);
      write_records(f, mid, hi, dmid, dhi, false, true);
    } else {
      // Given up on its own (not the database being away): its inbound message stays
      // unanswered (the sweep hands it over again) or its delivery pending.
      core::log_event(spdlog::level::err, "batch_dropped",
                      {{"writer", index}, {"replies", hi - lo}, {"deliveries", dhi - dlo}});
    }
  }

  /// After the commit: new outbound messages to their senders, staff actions told
  /// (those given up too; those kept through an outage are told when written).
  void finish_records(record_flush& f) {
    for (size_t i = 0; i < f.recs.size(); ++i) {
      auto& r = f.recs[i];
      auto& result = f.results[i];
      if (result && r.touch)
        touches.emplace(result->conversation_id, result->clinic_id);
      if (result && result->inserted && r.has_reply) {
        core::json_text payload;
        core::write_json(payload, r.reply);
        outbox_item item{result->clinic_id, result->outbound_id, result->outbound_id, result->conversation_id,
                         result->account_id, result->recipient, payload.take(),
                         std::move(r.rendered), 0, r.correlation_id};
        outbox_depth->add(1);
        self->send(node->sender_for(item.conversation_id), deliver_atom::value, std::move(item));
      }
      if (result && !r.erased.empty() && node->sink) // committed: the patient's lines in the local sink go too
        node->sink->erase(r.erased);
      if (r.receipt) // (a record kept through an outage took its receipt with it)
        std::exchange(r.receipt, nullptr)
          ->settle(result.has_value(), result && result->inserted && r.has_reply ? result->outbound_id : std::string{});
    }
    outbox_depth->add(-static_cast<int64_t>(f.final_deliveries));
    if (f.rows > 0)
      batch_rows_hist->observe(static_cast<double>(f.rows));
  }

  bool drain() {
    flush();
    return ingests.empty() && replies.empty() && deliveries.empty();
  }

  std::string inspect() const {
    return nlohmann::json{{"kind", name},
                          {"role", ingest_role ? "ingest" : "record"},
                          {"index", index},
                          {"pending_items", ingests.size() + replies.size() + deliveries.size()},
                          {"pending_rows", pending_rows},
                          {"held", held},
                          {"batches_committed", batches_committed},
                          {"batches_failed", batches_failed}}
      .dump();
  }
};

batch_writer_actor::behavior_type batch_writer(batch_writer_actor::stateful_pointer<batch_writer_state> self,
                                               node_context_ptr node, int index, bool ingest) {
  auto& st = self->state;
  st.self = self;
  st.node = node;
  st.index = index;
  st.ingest_role = ingest;
  st.db = std::make_unique<persistence::db_session>(app_target(node->cfg));
  st.init();
  return {
    [self](ingest_atom, webhook_request& req) {
      auto rows = req.messages.size() + req.statuses.size();
      self->state.ingests.push_back(std::move(req));
      self->state.add(rows);
    },
    [self](record_atom, reply_record& r) {
      if (r.outbound_id.empty()) // named once: a retried commit writes the same row
        r.outbound_id = self->state.ids.next(self->state.now_ms());
      self->state.replies.push_back(std::move(r));
      self->state.add(1);
    },
    [self](delivered_atom, delivery_record& d) {
      self->state.deliveries.push_back(std::move(d));
      self->state.add(1);
    },
    [self](flush_atom) {
      auto& st = self->state;
      st.flush_queued = false;
      st.retry_armed = false;
      st.flush();
    },
    [self](drain_atom) { return self->state.drain(); },
    [self](inspect_atom) { return self->state.inspect(); },
  };
}

batch_writer_actor spawn_batch_writer(caf::actor_system& sys, node_context_ptr node, int index, bool ingest) {
  return sys.spawn<caf::detached>(batch_writer, node, index, ingest);
}

} // namespace atendeai::actors
