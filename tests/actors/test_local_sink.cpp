// The local reply sink (actors/local_sink): one line per reply; an erasure removes a
// patient's conversations' lines from the file and keeps their later replies out of it.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include <unistd.h>

#include "actors/local_sink.hpp"

namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string line_of(const std::string& conversation, const std::string& to) {
  return "{\"conversation_id\":\"" + conversation + "\",\"to\":\"" + to + "\"}";
}

} // namespace

TEST_CASE("The local sink appends replies and an erasure removes a conversation's lines for good", "[sink]") {
  auto path = "/tmp/atendeai-sink-test-" + std::to_string(::getpid()) + ".jsonl";
  std::remove(path.c_str());
  atendeai::actors::local_sink sink(path);
  sink.append("c1", line_of("c1", "5511900000001"));
  sink.append("c2", line_of("c2", "5511900000002"));
  sink.append("c1", line_of("c1", "5511900000001"));
  sink.flush();
  CHECK(read_all(path) == line_of("c1", "5511900000001") + "\n" + line_of("c2", "5511900000002") + "\n" +
                             line_of("c1", "5511900000001") + "\n");

  sink.erase({"c1"});
  CHECK(read_all(path) == line_of("c2", "5511900000002") + "\n");
  sink.append("c1", line_of("c1", "5511900000001")); // a reply still on its way: kept out
  sink.append("c3", line_of("c3", "5511900000003"));
  sink.flush();
  CHECK(read_all(path) == line_of("c2", "5511900000002") + "\n" + line_of("c3", "5511900000003") + "\n");
  std::remove(path.c_str());
}
