#pragma once
/// Writing a clinic's rows from an admin handler: one transaction scoped to the clinic
/// (row-level security), its audit row, and after the commit the live clinic actor
/// reloads. Shared by the catalogue (api/catalogue.cpp) and the FAQ (api/faq.cpp).

#include <string>

#include <caf/send.hpp>
#include <pqxx/pqxx>

#include "api/call.hpp"
#include "api/validation.hpp"
#include "persistence/database.hpp"
#include "persistence/templates.hpp"

namespace atendeai::api {

/// Runs f(tx) in one transaction scoped to `clinic` and commits; a unique violation
/// becomes a 409 naming `conflict_field`.
template <class F>
auto in_clinic(api_call& call, const std::string& clinic, F&& f, const char* conflict_field = "") {
  try {
    return call.w.db->run([&](pqxx::connection& c) {
      pqxx::work tx(c);
      persistence::set_clinic(tx, clinic);
      auto out = f(tx);
      tx.commit();
      return out;
    });
  } catch (const pqxx::unique_violation&) {
    fail(core::error_code::conflict, "already exists", conflict_field);
  }
}

/// Appends the audit row of a change of the call's clinic.
inline void audit(api_call& call, pqxx::transaction_base& tx, const char* action, const char* target_type,
                  const std::string& target_id, nlohmann::json before, nlohmann::json after) {
  call.w.audit(tx, call.r, &call.p, call.clinic_id, action, target_type, target_id, std::move(before),
               std::move(after));
}

/// After a commit: channel accounts resolve afresh and the live clinic actor reloads.
inline void changed(api_call& call, const std::string& clinic) {
  caf::anon_send(call.w.node->router(), actors::reload_atom::value, clinic);
}

/// The clinic's registered template of this name and language, else a 422 naming `field`
/// (a template nobody registered is never sent). Shared by staff template messages and the
/// reminder settings.
inline core::message_template registered_template(pqxx::transaction_base& tx, const std::string& clinic,
                                                   const std::string& name, const std::string& language,
                                                   const char* field) {
  auto found = persistence::find_template(tx, clinic, name, language);
  if (!found)
    fail(core::error_code::validation_failed, "no template of this name and language is registered for the clinic",
         field);
  return *found;
}

/// The body of a route that takes none (an empty body or {}).
inline void no_body(const api_call& call) {
  if (!call.r.body.empty())
    parse_body(call.r.body, {});
}

} // namespace atendeai::api
