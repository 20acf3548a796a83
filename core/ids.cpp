#include "core/ids.hpp"

namespace atendeai::core {

uuid_generator::uuid_generator() : rng_(std::random_device{}()) {}

std::string uuid_generator::next(int64_t unix_ms) {
  uint8_t b[16];
  auto ms = static_cast<uint64_t>(unix_ms < 0 ? 0 : unix_ms);
  for (int i = 0; i < 6; ++i)
    b[i] = static_cast<uint8_t>(ms >> (8 * (5 - i)));
  auto r1 = rng_(), r2 = rng_();
  for (int i = 6; i < 16; ++i)
    b[i] = static_cast<uint8_t>((i < 14 ? r1 >> (8 * (i - 6)) : r2 >> (8 * (i - 14))));
  b[6] = static_cast<uint8_t>(0x70 | (b[6] & 0x0f)); // version 7
  b[8] = static_cast<uint8_t>(0x80 | (b[8] & 0x3f)); // variant 10
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      out.push_back('-');
    out.push_back(hex[b[i] >> 4]);
    out.push_back(hex[b[i] & 0x0f]);
  }
  return out;
}

} // namespace atendeai::core
