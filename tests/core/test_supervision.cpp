#include <catch2/catch.hpp>

#include "core/supervision.hpp"

using atendeai::core::instant;
using atendeai::core::restart_intensity;
using namespace std::chrono_literals;

namespace {
instant at(int64_t ms) { return instant{std::chrono::milliseconds{ms}}; }
} // namespace

TEST_CASE("restart intensity: max_restarts inside the window pass, one more escalates", "[supervision]") {
  restart_intensity r(3, 60s);
  CHECK_FALSE(r.record(at(0)));
  CHECK_FALSE(r.record(at(1000)));
  CHECK_FALSE(r.record(at(2000)));
  CHECK(r.recent(at(2000)) == 3);
  CHECK(r.record(at(3000)));
}

TEST_CASE("restart intensity: restarts older than the window are forgotten", "[supervision]") {
  restart_intensity r(2, 10s);
  CHECK_FALSE(r.record(at(0)));
  CHECK_FALSE(r.record(at(5000)));
  // The first one leaves the window exactly at 10 s.
  CHECK_FALSE(r.record(at(10000)));
  CHECK(r.recent(at(10000)) == 2);
  CHECK(r.record(at(14999)));
  CHECK(r.recent(at(100000)) == 0);
  CHECK_FALSE(r.record(at(100000)));
}

TEST_CASE("restart intensity: zero restarts allowed escalates the first crash", "[supervision]") {
  restart_intensity r(0, 60s);
  CHECK(r.record(at(0)));
  restart_intensity negative(-5, 60s);
  CHECK(negative.record(at(0)));
}
