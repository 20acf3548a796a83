/// Calendars: the ICS feeds (issue 22). Every professional, and the clinic as a whole, has a
/// secret feed URL `{http.public_base_url}/ics/{token}.ics` that staff subscribe to in their
/// calendar application; admins read the clinic's and rotate either (the old URL stops at
/// once; audited). The feed itself is an open route: its token is the credential, looked
/// up by its hash, and a wrong one answers 404 like a route that does not exist.
#include "api/call.hpp"
#include "api/clinic_rows.hpp"

#include "core/ics.hpp"
#include "persistence/calendar_feeds.hpp"
#include "persistence/catalogue.hpp"

namespace atendeai::api {

nlohmann::json feed_url(const api_call& call, const std::string& token) {
  if (token.empty())
    return nullptr;
  return call.w.node->cfg.http.public_base_url + "/ics/" + token + ".ics";
}

namespace {

using nlohmann::json;
using core::error_code;
namespace db = persistence;

/// GET /ics/{token}.ics: the feed's events as text/calendar.
void calendar_ics(api_call& call) {
  no_body(call);
  auto token = call.r.params["token"];
  const std::string suffix = ".ics";
  if (token.size() > suffix.size() && token.compare(token.size() - suffix.size(), suffix.size(), suffix) == 0)
    token.resize(token.size() - suffix.size());
  // A token is 64 hex digits: anything else is not looked up.
  if (token.size() != 64 || token.find_first_not_of("0123456789abcdef") != std::string::npos)
    fail(error_code::not_found, "no such feed");
  const auto& cfg = call.w.node->cfg.calendar;
  auto detail = cfg.ics_patient_detail == "none" ? db::feed_patient_detail::none : db::feed_patient_detail::first_name;
  auto contents = call.w.db->run([&](pqxx::connection& c) -> std::optional<db::feed_contents> {
    pqxx::read_transaction tx(c);
    auto feed = db::feed_of_token(tx, token);
    if (!feed)
      return std::nullopt;
    persistence::set_clinic(tx, feed->clinic_id);
    return db::feed_events(tx, *feed, call.w.now_s(), cfg.ics_past_days, cfg.ics_future_days, detail);
  });
  if (!contents)
    fail(error_code::not_found, "no such feed");
  call.w.count("atendeai_ics_feeds_served_total", "ICS feeds served to calendar applications", {});
  call.r.responder->respond(200, core::render_ics(contents->name, contents->events), "text/calendar; charset=utf-8");
}

/// POST .../professionals/{pid}/ics-token: a new feed URL for the professional.
void rotate_professional(api_call& call) {
  no_body(call);
  auto pid = call.id_param("pid", "professional");
  auto url = in_clinic(call, call.clinic_id, [&](pqxx::transaction_base& tx) {
    if (!db::find_professional(tx, call.clinic_id, pid))
      fail(error_code::not_found, "no such professional");
    auto fresh = feed_url(call, db::rotate_feed_token(tx, call.clinic_id, pid));
    audit(call, tx, "professional.ics_rotate", "professional", pid, nullptr, nullptr);
    return fresh;
  });
  call.reply(200, {{"professional_id", pid}, {"ics_url", url}});
}

/// GET .../calendar-feed: the clinic-wide feed's URL (every professional's appointments).
void clinic_feed(api_call& call) {
  no_body(call);
  auto url = in_clinic(call, call.clinic_id, [&](pqxx::transaction_base& tx) {
    return feed_url(call, db::feed_token(tx, call.clinic_id, ""));
  });
  call.reply(200, {{"clinic_id", call.clinic_id}, {"ics_url", url}});
}

/// POST .../calendar-feed/token: a new URL for the clinic-wide feed.
void rotate_clinic(api_call& call) {
  no_body(call);
  auto url = in_clinic(call, call.clinic_id, [&](pqxx::transaction_base& tx) {
    auto fresh = feed_url(call, db::rotate_feed_token(tx, call.clinic_id, ""));
    audit(call, tx, "clinic.ics_rotate", "clinic", call.clinic_id, nullptr, nullptr);
    return fresh;
  });
  call.reply(200, {{"clinic_id", call.clinic_id}, {"ics_url", url}});
}

} // namespace

void add_calendar_handlers(api_handlers& h) {
  h["calendar.ics"] = calendar_ics;
  h["calendar.rotate_professional"] = rotate_professional;
  h["calendar.clinic_feed"] = clinic_feed;
  h["calendar.rotate_clinic"] = rotate_clinic;
}

} // namespace atendeai::api
