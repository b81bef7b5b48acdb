// FieldList storage: a vector of fields plus an arena of fixed chunks for decoded bytes.
//
// Views handed out by Intern()/Commit() must stay valid while later fields are added, so a chunk is never
// grown once something points into it: a value that does not fit starts the next chunk. Clear() empties
// the chunks but keeps their capacity (and the field vector's), so a worker that parses similar requests
// over and over stops allocating after the first few.
#include <algorithm>
#include <cstring>

#include "request/fields.h"

namespace guard::request {
namespace {
constexpr size_t kChunkBytes = 16 * 1024;
}  // namespace

std::string_view TargetName(Target t) {
  switch (t) {
    case Target::kMethod: return "method";
    case Target::kPath: return "path";
    case Target::kArgName: return "query_names";
    case Target::kArg: return "query";
    case Target::kHeaderName: return "header_names";
    case Target::kHeader: return "headers";
    case Target::kCookieName: return "cookie_names";
    case Target::kCookie: return "cookies";
    case Target::kBodyArgName: return "body_args_names";
    case Target::kBodyArg: return "body_args";
    case Target::kFileName: return "files";
    case Target::kXml: return "xml";
    case Target::kBody: return "body";
    case Target::kFileContent: return "file_content";
    case Target::kCount: break;
  }
  return "";
}

uint32_t TargetMask(std::string_view name) {
  auto bit = [](Target t) { return 1u << static_cast<unsigned>(t); };
  if (name == "args") return bit(Target::kArg) | bit(Target::kBodyArg);
  if (name == "args_names") return bit(Target::kArgName) | bit(Target::kBodyArgName);
  for (unsigned t = 0; t < static_cast<unsigned>(Target::kCount); ++t)
    if (name == TargetName(static_cast<Target>(t))) return 1u << t;
  return 0;
}

void FieldList::Clear() {
  fields_.clear();
  for (size_t i = 0; i < arena_used_; ++i) arena_[i].used = 0;
  arena_used_ = 0;
  reserved_at_ = 0;
  flags_ = 0;
  content_type_ = {};
}

bool FieldList::Add(Target t, std::string_view name, std::string_view value) {
  // The raw body is the catch-all for everything a limit cut off, so it never counts against the limit.
  if (t != Target::kBody && full()) {
    flags_ |= kTooManyFields;
    return false;
  }
  fields_.push_back(Field{t, name, value});
  return true;
}

char* FieldList::Reserve(size_t n) {
  Chunk* chunk = arena_used_ ? &arena_[arena_used_ - 1] : nullptr;
  if (chunk == nullptr || chunk->capacity - chunk->used < n) {
    if (arena_used_ == arena_.size()) arena_.emplace_back();
    chunk = &arena_[arena_used_++];
    chunk->used = 0;
    // Replacing the buffer of an unused chunk is safe: nothing points into it yet.
    if (chunk->capacity < n) {
      chunk->capacity = std::max(n, kChunkBytes);
      chunk->data = std::make_unique_for_overwrite<char[]>(chunk->capacity);
    }
  }
  reserved_at_ = chunk->used;
  chunk->used += n;
  return chunk->data.get() + reserved_at_;
}

std::string_view FieldList::Commit(size_t used) {
  Chunk& chunk = arena_[arena_used_ - 1];
  chunk.used = reserved_at_ + used;
  return std::string_view(chunk.data.get() + reserved_at_, used);
}

std::string_view FieldList::Intern(std::string_view bytes) {
  if (bytes.empty()) return {};
  char* p = Reserve(bytes.size());
  std::memcpy(p, bytes.data(), bytes.size());
  return Commit(bytes.size());
}

}  // namespace guard::request
