#include "persistence/redis.hpp"

#include <hiredis/hiredis.h>

#include "persistence/database.hpp"

namespace atendeai::persistence {

namespace {

struct redis_address {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string password;
  int db = 0;
};

redis_address parse_url(const std::string& url) {
  redis_address a;
  std::string rest = url.substr(url.find("://") == std::string::npos ? 0 : url.find("://") + 3);
  if (auto at = rest.rfind('@'); at != std::string::npos) {
    auto cred = rest.substr(0, at);
    auto colon = cred.find(':');
    a.password = colon == std::string::npos ? cred : cred.substr(colon + 1);
    rest = rest.substr(at + 1);
  }
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    auto db = rest.substr(slash + 1);
    if (!db.empty())
      a.db = std::stoi(db);
    rest = rest.substr(0, slash);
  }
  if (auto colon = rest.rfind(':'); colon != std::string::npos) {
    a.port = std::stoi(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
  }
  if (!rest.empty())
    a.host = rest;
  return a;
}

struct reply_deleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using reply_ptr = std::unique_ptr<redisReply, reply_deleter>;

} // namespace

std::unique_ptr<redis_client> redis_client::connect(const std::string& url, int timeout_ms) {
  redis_address a;
  try {
    a = parse_url(url);
  } catch (const std::exception&) {
    throw unavailable("Redis URL " + url + " is malformed");
  }
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  auto ctx = redisConnectWithTimeout(a.host.c_str(), a.port, tv);
  auto where = "Redis at " + a.host + ":" + std::to_string(a.port);
  if (!ctx || ctx->err) {
    std::string why = ctx ? ctx->errstr : "out of memory";
    if (ctx)
      redisFree(ctx);
    throw unavailable(where + " is unreachable: " + why);
  }
  redisSetTimeout(ctx, tv);
  std::unique_ptr<redis_client> client(new redis_client(ctx));
  if (!a.password.empty())
    client->command({"AUTH", a.password});
  if (a.db != 0)
    client->command({"SELECT", std::to_string(a.db)});
  return client;
}

redis_client::~redis_client() {
  redisFree(ctx_);
}

namespace {

reply_ptr run(redisContext* ctx, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  reply_ptr r(static_cast<redisReply*>(
    redisCommandArgv(ctx, static_cast<int>(args.size()), argv.data(), lens.data())));
  if (!r)
    throw unavailable(std::string("Redis: ") + (ctx->errstr[0] ? ctx->errstr : "connection lost"));
  if (r->type == REDIS_REPLY_ERROR)
    throw unavailable(std::string("Redis error: ") + std::string(r->str, r->len));
  return r;
}

} // namespace

std::optional<std::string> redis_client::command(const std::vector<std::string>& args) {
  if (ctx_->err)
    throw unavailable(std::string("Redis: ") + ctx_->errstr);
  auto r = run(ctx_, args);
  switch (r->type) {
    case REDIS_REPLY_NIL:
      return std::nullopt;
    case REDIS_REPLY_INTEGER:
      return std::to_string(r->integer);
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
      return std::string(r->str, r->len);
    default:
      return std::string{};
  }
}

std::vector<std::string> redis_client::command_list(const std::vector<std::string>& args) {
  if (ctx_->err)
    throw unavailable(std::string("Redis: ") + ctx_->errstr);
  auto r = run(ctx_, args);
  std::vector<std::string> out;
  if (r->type == REDIS_REPLY_ARRAY)
    for (size_t i = 0; i < r->elements; ++i)
      if (r->element[i]->type == REDIS_REPLY_STRING)
        out.emplace_back(r->element[i]->str, r->element[i]->len);
  return out;
}

bool redis_client::ping() {
  try {
    auto r = command({"PING"});
    return r && *r == "PONG";
  } catch (const unavailable&) {
    return false;
  }
}

} // namespace atendeai::persistence
