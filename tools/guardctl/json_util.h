// Small helpers over rapidjson shared by the JSON-based readers (jsonl, har): type-checked field access
// that reports what was expected instead of asserting.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"
#include "strutil.h"

namespace guardctl::json {

// Iterative parsing: deeply nested input cannot exhaust the stack.
constexpr unsigned kParseFlags = rapidjson::kParseIterativeFlag | rapidjson::kParseStopWhenDoneFlag;

inline absl::Status Parse(std::string_view text, rapidjson::Document& doc) {
  doc.Parse<kParseFlags>(text.data(), text.size());
  if (doc.HasParseError()) {
    return absl::InvalidArgumentError(str::Cat("invalid JSON at offset ", static_cast<size_t>(doc.GetErrorOffset()), ": ",
                                                   rapidjson::GetParseError_En(doc.GetParseError())));
  }
  return absl::OkStatus();
}

inline std::string_view View(const rapidjson::Value& v) { return {v.GetString(), v.GetStringLength()}; }

// Reads an optional string member into *out. Absent (or null) is fine; any other type is an error.
inline absl::Status OptString(const rapidjson::Value& obj, const char* name, std::string* out) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || it->value.IsNull()) return absl::OkStatus();
  if (!it->value.IsString()) return absl::InvalidArgumentError(str::Cat("\"", name, "\" must be a string"));
  out->assign(View(it->value));
  return absl::OkStatus();
}

inline absl::Status RequiredString(const rapidjson::Value& obj, const char* name, std::string* out) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd()) return absl::InvalidArgumentError(str::Cat("missing \"", name, "\""));
  if (!it->value.IsString()) return absl::InvalidArgumentError(str::Cat("\"", name, "\" must be a string"));
  out->assign(View(it->value));
  return absl::OkStatus();
}

inline absl::Status DecodeBase64(std::string_view in, const char* what, std::string* out) {
  if (!absl::Base64Unescape(absl::string_view(in.data(), in.size()), out)) return absl::InvalidArgumentError(str::Cat("\"", what, "\" is not valid base64"));
  return absl::OkStatus();
}

}  // namespace guardctl::json
