#pragma once
/// The local reply sink: without an access token the senders write each reply as one JSON
/// line into var/ (`sender.sink_file`) instead of calling the Graph API. Shared by every
/// sender of the node; an erasure (LGPD) removes a patient's lines from the file and keeps
/// that conversation's later replies out of it.

#include <fstream>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

namespace atendeai::actors {

class local_sink {
public:
  explicit local_sink(std::string path) : path_(std::move(path)) {}

  /// Appends one line of a conversation's reply (nothing for an erased conversation).
  void append(const std::string& conversation_id, const std::string& line);
  /// Writes what is buffered to the file.
  void flush();
  /// Removes every line of these conversations from the file, and keeps their later ones
  /// out of it.
  void erase(const std::vector<std::string>& conversation_ids);

private:
  std::mutex mutex_;
  std::string path_;
  std::ofstream out_;
  std::unordered_set<std::string> erased_;
};

} // namespace atendeai::actors
