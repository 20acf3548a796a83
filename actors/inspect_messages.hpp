#pragma once
/// Live inspection's request: a plain, serialisable value (announced with
/// add_message_type) so that a cluster can forward it to the node that owns the clinic.
/// Every answer is a JSON document as a string.

#include <string>

#include <caf/meta/type_name.hpp>

namespace atendeai::actors {

/// What an inspection asks the router (and through it a clinic) for.
struct inspect_query {
  std::string what;      ///< node | actors | clinic | summary | conversation | flow
  std::string clinic_id; ///< clinic, summary, conversation, flow
  std::string id;        ///< the conversation (conversation, flow: a flow's id is its conversation's)
};

/// CAF 0.17 inspection (serialisation, printing).
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, inspect_query& x) {
  return f(caf::meta::type_name("inspect_query"), x.what, x.clinic_id, x.id);
}

} // namespace atendeai::actors
