#include "actors/local_sink.hpp"

#include <algorithm>
#include <cstdio>

namespace atendeai::actors {

void local_sink::append(const std::string& conversation_id, const std::string& line) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (erased_.count(conversation_id))
    return;
  if (!out_.is_open())
    out_.open(path_, std::ios::app);
  out_ << line << "\n";
}

void local_sink::flush() {
  std::lock_guard<std::mutex> guard(mutex_);
  if (out_.is_open())
    out_.flush();
}

void local_sink::erase(const std::vector<std::string>& conversation_ids) {
  std::lock_guard<std::mutex> guard(mutex_);
  erased_.insert(conversation_ids.begin(), conversation_ids.end());
  if (out_.is_open())
    out_.close();
  std::ifstream in(path_);
  if (!in)
    return;
  // Each line names its conversation as "conversation_id":"<id>" (nlohmann's compact dump).
  std::vector<std::string> marks;
  for (auto& id : conversation_ids)
    marks.push_back("\"conversation_id\":\"" + id + "\"");
  std::string kept, line;
  while (std::getline(in, line))
    if (std::none_of(marks.begin(), marks.end(), [&](const std::string& m) { return line.find(m) != std::string::npos; }))
      kept += line + "\n";
  in.close();
  // Rewritten beside and renamed over: the file never holds half of itself.
  auto tmp = path_ + ".erasing";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << kept;
  }
  std::rename(tmp.c_str(), path_.c_str());
}

} // namespace atendeai::actors
