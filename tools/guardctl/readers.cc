// Format selection and file loading for the readers (jsonl_reader.cc, har_reader.cc, http_reader.cc).
#include <fstream>
#include <sstream>

#include "readers.h"
#include "strutil.h"

namespace guardctl {

absl::StatusOr<Format> ParseFormat(std::string_view name) {
  if (name == "jsonl") return Format::kJsonl;
  if (name == "har") return Format::kHar;
  if (name == "http") return Format::kHttp;
  return absl::InvalidArgumentError(str::Cat("unknown format \"", name, "\" (jsonl, har or http)"));
}

Format FormatFromPath(std::string_view path) {
  if (str::EndsWithIgnoreCase(path, ".har")) return Format::kHar;
  if (str::EndsWithIgnoreCase(path, ".http") || str::EndsWithIgnoreCase(path, ".txt")) return Format::kHttp;
  return Format::kJsonl;
}

absl::StatusOr<std::vector<Request>> Read(Format format, std::string_view text, std::string_view source) {
  switch (format) {
    case Format::kJsonl: return ReadJsonl(text, source);
    case Format::kHar: return ReadHar(text, source);
    case Format::kHttp: return ReadHttp(text, source);
  }
  return absl::InternalError("unknown format");
}

absl::StatusOr<std::vector<Request>> ReadFile(const std::string& path, Format format) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(str::Cat(path, ": cannot open"));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return absl::DataLossError(str::Cat(path, ": read error"));
  return Read(format, ss.str(), path);
}

}  // namespace guardctl
