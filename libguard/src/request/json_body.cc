// JSON bodies through RapidJSON's SAX Reader: no DOM, every key and scalar becomes a field as it streams by.
//
// - Keys are emitted as kBodyArgName with their dotted path ("user.roles.0.name"); strings, numbers
//   (as their source text, kParseNumbersAsStringsFlag) and booleans as kBodyArg named by that path.
// - The iterative parser (kParseIterativeFlag) keeps its stack on the heap, so 1 MB of "[[[[" cannot
//   overflow the C stack; the handler stops at max_json_depth and flags kJsonTooDeep.
// - RapidJSON's stack lives in a buffer owned by the FieldList (ParserScratch), so steady-state parsing
//   allocates nothing.
// - kParseStopWhenDoneFlag plus our own check of what follows the root: trailing garbage is reported as
//   malformed (a lenient backend might read it) instead of failing with RapidJSON's generic error.
// - Emitted path names keep at most kMaxPrefix bytes of the parent path followed by the full key, so the
//   bytes written are linear in the input even for long keys nested under many siblings.
#include <charconv>
#include <cstring>

#include "rapidjson/memorystream.h"
#include "rapidjson/reader.h"
#include "request/parsers.h"

namespace guard::request::internal {
namespace {

constexpr size_t kMaxPrefix = 256;

// Hands RapidJSON's internal::Stack one reusable block (it only ever holds one).
class ReusableStackAllocator {
 public:
  static const bool kNeedFree = false;
  ReusableStackAllocator() : buf_(&own_) {}
  explicit ReusableStackAllocator(std::vector<char>* buf) : buf_(buf) {}
  void* Malloc(size_t n) {
    if (n == 0) return nullptr;
    if (buf_->size() < n) buf_->resize(n);
    return buf_->data();
  }
  void* Realloc(void* p, size_t /*old*/, size_t n) {
    if (n == 0) return nullptr;
    if (buf_->size() < n) buf_->resize(n);  // keeps the bytes already on the stack
    return buf_->data();
  }
  static void Free(void*) {}

 private:
  std::vector<char> own_;
  std::vector<char>* buf_;
};

// frames (in ParserScratch) holds three words per open container: path length, is_array, next index.
class Handler : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, Handler> {
 public:
  Handler(FieldList* out, size_t max_depth)
      : out_(out), max_depth_(max_depth), path_(out->scratch().path), frames_(out->scratch().frames) {
    path_.clear();
    frames_.clear();
  }

  bool Null() { return Scalar({}, false); }
  bool Bool(bool b) { return Scalar(b ? "true" : "false", true); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool) { return Scalar(std::string_view(s, n), true); }
  bool String(const char* s, rapidjson::SizeType n, bool) { return Scalar(std::string_view(s, n), true); }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    size_t base = frames_[frames_.size() - 3];
    path_.resize(base);
    if (base > 0) path_.push_back('.');
    path_.append(s, n);
    std::string_view name = EmitName(base);
    return out_->Add(Target::kBodyArgName, name, name);
  }
  bool StartObject() { return Open(false); }
  bool StartArray() { return Open(true); }
  bool EndObject(rapidjson::SizeType) { return Close(); }
  bool EndArray(rapidjson::SizeType) { return Close(); }

  bool too_deep() const { return too_deep_; }

 private:
  // Sets path_ to the path of the value that starts now (array elements get their index appended).
  size_t EnterValue() {
    if (frames_.empty()) {
      path_.clear();
      return 0;
    }
    size_t base = frames_[frames_.size() - 3];
    if (frames_[frames_.size() - 2]) {  // array: ".<index>"
      path_.resize(base);
      if (base > 0) path_.push_back('.');
      char digits[16];
      auto r = std::to_chars(digits, digits + sizeof digits, frames_[frames_.size() - 1]++);
      path_.append(digits, r.ptr);
    }
    return base;  // in an object, Key() already set path_
  }
  std::string_view EmitName(size_t base) {
    if (base <= kMaxPrefix) return out_->Intern(path_);
    std::string_view p(path_);
    char* dst = out_->Reserve(kMaxPrefix + (p.size() - base));
    std::memcpy(dst, p.data(), kMaxPrefix);
    std::memcpy(dst + kMaxPrefix, p.data() + base, p.size() - base);
    return out_->Commit(kMaxPrefix + (p.size() - base));
  }
  bool Scalar(std::string_view text, bool emit) {
    size_t base = EnterValue();
    if (!emit) return true;
    std::string_view name = frames_.empty() ? std::string_view() : EmitName(base);
    return out_->Add(Target::kBodyArg, name, out_->Intern(text));
  }
  bool Open(bool is_array) {
    EnterValue();
    if (frames_.size() / 3 >= max_depth_) {
      too_deep_ = true;
      return false;
    }
    frames_.push_back(static_cast<uint32_t>(path_.size()));
    frames_.push_back(is_array ? 1 : 0);
    frames_.push_back(0);
    return true;
  }
  bool Close() {
    frames_.resize(frames_.size() - 3);
    return true;
  }

  FieldList* out_;
  size_t max_depth_;
  std::string& path_;
  std::vector<uint32_t>& frames_;
  bool too_deep_ = false;
};

}  // namespace

bool ParseJsonBody(std::string_view body, const Limits& limits, bool truncated, bool quiet, FieldList* out) {
  // Path offsets are uint32_t: bodies past 4 GB are never inspected (max_body_bytes is far smaller).
  if (body.size() > UINT32_MAX) return false;
  ReusableStackAllocator alloc(&out->scratch().json_stack);
  rapidjson::GenericReader<rapidjson::UTF8<>, rapidjson::UTF8<>, ReusableStackAllocator> reader(&alloc, 256);
  rapidjson::MemoryStream stream(body.data(), body.size());
  Handler handler(out, limits.max_json_depth);
  constexpr unsigned kFlags =
      rapidjson::kParseIterativeFlag | rapidjson::kParseStopWhenDoneFlag | rapidjson::kParseNumbersAsStringsFlag;
  rapidjson::ParseResult result = reader.Parse<kFlags>(stream, handler);
  bool ok = !result.IsError();
  if (ok) {  // only whitespace may follow the root value
    for (size_t i = stream.Tell(); i < body.size(); ++i) {
      char c = body[i];
      if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
        ok = false;
        break;
      }
    }
  }
  if (ok) return true;
  if (quiet) return false;
  if (handler.too_deep()) out->SetFlag(kJsonTooDeep);
  else if (!truncated && !out->full()) out->SetFlag(kMalformedBody);
  return false;
}

}  // namespace guard::request::internal
