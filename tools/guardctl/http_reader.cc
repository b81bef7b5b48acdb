// Raw HTTP/1.1 reader. A file holds one or more requests, either separated by lines starting with "###"
// (as in editor REST-client files; the rest of the line may give "[id] [attack|benign] [category]") or
// simply concatenated. A body is delimited by Content-Length or chunked Transfer-Encoding; without either,
// it runs to the next "###" line in a separated file and is empty in a concatenated one (as RFC 9112
// says for requests). Lines may end in CRLF or LF.
#include <cctype>
#include <string>
#include <vector>

#include "readers.h"
#include "strutil.h"

namespace guardctl {
namespace {

bool IsSeparator(std::string_view line) { return str::StartsWith(line, "###"); }

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (c <= 32 || c >= 127 || std::string_view("()<>@,;:\\\"/[]?={}").find(c) != std::string_view::npos) return false;
  }
  return true;
}

class Cursor {
 public:
  explicit Cursor(std::string_view t) : text_(t) {}
  bool eof() const { return pos_ >= text_.size(); }
  size_t line() const { return line_; }
  size_t pos() const { return pos_; }
  std::string_view rest() const { return text_.substr(pos_); }

  // The next line without its terminator; false at end of input.
  bool NextLine(std::string_view* out) {
    if (eof()) return false;
    size_t nl = text_.find('\n', pos_);
    size_t end = nl == std::string_view::npos ? text_.size() : nl;
    std::string_view l = text_.substr(pos_, end - pos_);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    pos_ = nl == std::string_view::npos ? text_.size() : nl + 1;
    ++line_;
    *out = l;
    return true;
  }
  std::string_view PeekLine() const {
    Cursor c = *this;
    std::string_view l;
    c.NextLine(&l);
    return l;
  }
  // Takes n raw bytes (the caller checked they are there), counting the lines they span.
  std::string_view Take(size_t n) {
    std::string_view s = text_.substr(pos_, n);
    for (char c : s) line_ += c == '\n';
    pos_ += n;
    return s;
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
  size_t line_ = 0;
};

absl::Status Error(std::string_view source, size_t line, std::string_view msg) {
  return absl::InvalidArgumentError(str::Cat(source, ":", line, ": ", msg));
}

absl::Status ReadChunked(Cursor& c, std::string_view source, std::string* body) {
  for (;;) {
    std::string_view size_line;
    if (!c.NextLine(&size_line)) return Error(source, c.line(), "chunked body ends before the last chunk");
    std::string_view hex = size_line.substr(0, size_line.find(';'));
    hex = str::Strip(hex);
    uint64_t n = 0;
    if (hex.empty() || hex.size() > 15 || hex.find_first_not_of("0123456789abcdefABCDEF") != std::string_view::npos) {
      return Error(source, c.line(), str::Cat("bad chunk size \"", size_line, "\""));
    }
    n = std::stoull(std::string(hex), nullptr, 16);  // validated: at most 15 hex digits
    if (n == 0) break;
    if (n > c.rest().size()) return Error(source, c.line(), "chunk runs past the end of the input");
    body->append(c.Take(n));
    std::string_view crlf;
    if (c.NextLine(&crlf) && !crlf.empty()) return Error(source, c.line(), "chunk data not followed by CRLF");
  }
  std::string_view trailer;  // trailers, up to the empty line
  while (c.NextLine(&trailer) && !trailer.empty()) {
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<Request>> ReadHttp(std::string_view text, std::string_view source) {
  bool separated = IsSeparator(text);
  for (size_t nl = text.find('\n'); !separated && nl != std::string_view::npos; nl = text.find('\n', nl + 1)) {
    separated = IsSeparator(text.substr(nl + 1));
  }
  std::vector<Request> out;
  Cursor c(text);
  std::vector<std::string> next_meta;
  for (;;) {
    std::string_view line;
    // Blank lines and separators between requests.
    for (;;) {
      if (!c.NextLine(&line)) return out;
      if (IsSeparator(line)) {
        next_meta.clear();
        for (std::string_view m : str::SplitAny(line.substr(3), " \t")) next_meta.emplace_back(m);
        continue;
      }
      if (!str::Strip(line).empty()) break;
    }
    const size_t start_line = c.line();
    Request r;
    std::vector<std::string_view> parts = str::SplitAny(line, " ");
    if (parts.size() < 2 || parts.size() > 3 || !IsToken(parts[0])) {
      return Error(source, start_line, str::Cat("malformed request line \"", line.substr(0, 80), "\""));
    }
    if (parts.size() == 3 && !str::StartsWith(parts[2], "HTTP/")) {
      return Error(source, start_line, str::Cat("bad HTTP version \"", parts[2], "\""));
    }
    r.method = std::string(parts[0]);
    r.target = std::string(parts[1]);

    while (c.NextLine(&line) && !line.empty()) {
      if (IsSeparator(line) && separated) {
        return Error(source, c.line(), "separator inside a header block (missing empty line after headers?)");
      }
      if ((line[0] == ' ' || line[0] == '\t') && !r.headers.empty()) {  // obsolete line folding
        r.headers.back().second.append(" ").append(str::Strip(line));
        continue;
      }
      size_t colon = line.find(':');
      if (colon == std::string_view::npos || colon == 0) {
        return Error(source, c.line(), str::Cat("header line without a name and ':' \"", line.substr(0, 80), "\""));
      }
      r.headers.emplace_back(std::string(line.substr(0, colon)),
                             std::string(str::Strip(line.substr(colon + 1))));
    }

    const std::string* te = r.header("transfer-encoding");
    const std::string* cl = r.header("content-length");
    if (te != nullptr && str::ContainsIgnoreCase(*te, "chunked")) {
      if (auto s = ReadChunked(c, source, &r.body); !s.ok()) return s;
    } else if (cl != nullptr) {
      uint64_t n = 0;
      if (cl->empty() || cl->size() > 18 || cl->find_first_not_of("0123456789") != std::string::npos) {
        return Error(source, start_line, str::Cat("bad Content-Length \"", *cl, "\""));
      }
      n = std::stoull(*cl);
      if (n > c.rest().size()) {
        return Error(source, start_line,
                     str::Cat("Content-Length ", n, " but only ", c.rest().size(), " bytes left (truncated body?)"));
      }
      r.body = std::string(c.Take(n));
    } else if (separated) {
      std::string body;
      while (!c.eof() && !IsSeparator(c.PeekLine())) {
        size_t before = c.pos();
        c.NextLine(&line);
        body.append(text.substr(before, c.pos() - before));
      }
      while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
      r.body = std::move(body);
    }

    if (!next_meta.empty()) r.id = next_meta[0];
    if (next_meta.size() > 1) {
      r.label = next_meta[1];
      if (r.label != "attack" && r.label != "benign") {
        return Error(source, start_line, str::Cat("label must be attack or benign, not \"", r.label, "\""));
      }
    }
    if (next_meta.size() > 2) r.category = next_meta[2];
    next_meta.clear();
    if (r.id.empty()) r.id = str::Cat("request-", out.size() + 1);
    out.push_back(std::move(r));
  }
}

}  // namespace guardctl
