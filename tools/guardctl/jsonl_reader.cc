// The corpus reader: one request per line (tests/corpus/README.md). Blank lines are skipped; every other
// line must be a JSON object with "method" and "uri", and either "headers" (object) or "header_list"
// (array of [name, value] pairs), and either "body" or "body_b64".
#include <string>

#include "json_util.h"
#include "readers.h"
#include "strutil.h"

namespace guardctl {
namespace {

absl::Status FromObject(const rapidjson::Value& o, Request* r) {
  if (!o.IsObject()) return absl::InvalidArgumentError("a line must be a JSON object");
  if (auto s = json::OptString(o, "id", &r->id); !s.ok()) return s;
  if (auto s = json::RequiredString(o, "method", &r->method); !s.ok()) return s;
  if (auto s = json::RequiredString(o, "uri", &r->target); !s.ok()) return s;
  if (r->method.empty()) return absl::InvalidArgumentError("\"method\" is empty");
  if (r->target.empty()) return absl::InvalidArgumentError("\"uri\" is empty");

  auto h = o.FindMember("headers");
  auto hl = o.FindMember("header_list");
  if (h != o.MemberEnd() && hl != o.MemberEnd()) return absl::InvalidArgumentError("both \"headers\" and \"header_list\"");
  if (h != o.MemberEnd()) {
    if (!h->value.IsObject()) return absl::InvalidArgumentError("\"headers\" must be an object");
    for (const auto& m : h->value.GetObject()) {
      if (!m.value.IsString()) {
        return absl::InvalidArgumentError(str::Cat("header \"", json::View(m.name), "\" must be a string"));
      }
      r->headers.emplace_back(json::View(m.name), json::View(m.value));
    }
  } else if (hl != o.MemberEnd()) {
    if (!hl->value.IsArray()) return absl::InvalidArgumentError("\"header_list\" must be an array");
    for (const auto& p : hl->value.GetArray()) {
      if (!p.IsArray() || p.Size() != 2 || !p[0].IsString() || !p[1].IsString()) {
        return absl::InvalidArgumentError("\"header_list\" items must be [name, value] string pairs");
      }
      r->headers.emplace_back(json::View(p[0]), json::View(p[1]));
    }
  }

  bool has_body = o.HasMember("body") && !o["body"].IsNull();
  bool has_b64 = o.HasMember("body_b64") && !o["body_b64"].IsNull();
  if (has_body && has_b64) return absl::InvalidArgumentError("both \"body\" and \"body_b64\"");
  if (auto s = json::OptString(o, "body", &r->body); !s.ok()) return s;
  if (has_b64) {
    std::string b64;
    if (auto s = json::OptString(o, "body_b64", &b64); !s.ok()) return s;
    if (auto s = json::DecodeBase64(b64, "body_b64", &r->body); !s.ok()) return s;
  }

  if (auto s = json::OptString(o, "label", &r->label); !s.ok()) return s;
  if (!r->label.empty() && r->label != "attack" && r->label != "benign") {
    return absl::InvalidArgumentError(str::Cat("\"label\" must be \"attack\" or \"benign\", not \"", r->label, "\""));
  }
  if (auto s = json::OptString(o, "category", &r->category); !s.ok()) return s;
  if (auto s = json::OptString(o, "split", &r->split); !s.ok()) return s;
  if (auto s = json::OptString(o, "client_ip", &r->client_ip); !s.ok()) return s;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<Request>> ReadJsonl(std::string_view text, std::string_view source) {
  std::vector<Request> out;
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;

    rapidjson::Document doc;
    absl::Status st = json::Parse(line, doc);
    Request r;
    if (st.ok()) st = FromObject(doc, &r);
    if (!st.ok()) return absl::InvalidArgumentError(str::Cat(source, ":", line_no, ": ", st.message()));
    if (r.id.empty()) r.id = str::Cat("line-", line_no);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace guardctl
