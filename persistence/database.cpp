#include "persistence/database.hpp"

namespace atendeai::persistence {

std::string redact_url(const std::string& url) {
  auto scheme = url.find("://");
  auto at = url.find('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme)
    return url;
  auto colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at)
    return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

std::unique_ptr<pqxx::connection> connect(const db_target& target) {
  auto url = target.url;
  url += (url.find('?') == std::string::npos ? "?" : "&");
  url += "connect_timeout=" + std::to_string(target.connect_timeout_s)
         + "&application_name=atendeai&keepalives_idle=10&keepalives_interval=5&keepalives_count=3";
  try {
    auto conn = std::make_unique<pqxx::connection>(url);
    if (!target.role.empty()) {
      pqxx::nontransaction tx(*conn);
      tx.exec("SET ROLE " + tx.quote_name(target.role));
    }
    return conn;
  } catch (const std::exception& e) {
    std::string why = e.what();
    while (!why.empty() && (why.back() == '\n' || why.back() == ' '))
      why.pop_back();
    for (auto& ch : why)
      if (ch == '\n')
        ch = ' ';
    throw unavailable("PostgreSQL at " + redact_url(target.url) + " is unreachable: " + why);
  }
}

pqxx::connection& db_session::get() {
  if (conn_ && !conn_->is_open())
    conn_.reset();
  if (!conn_)
    conn_ = connect(target_);
  return *conn_;
}

void set_clinic(pqxx::transaction_base& tx, const std::string& clinic_id) {
  tx.exec_params("SELECT set_config('app.clinic_id', $1, true)", clinic_id);
}

} // namespace atendeai::persistence
