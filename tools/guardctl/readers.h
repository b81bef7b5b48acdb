// Input readers for guardctl: each turns the text of one file into owned Requests or a clear error.
//
//   jsonl: the labelled corpus format of tests/corpus/ (one JSON object per line, see tests/corpus/README.md)
//   har:   HAR 1.2, log.entries[].request (browser dev tools, proxies)
//   http:  raw HTTP/1.1 requests, separated by a line starting with "###" or simply concatenated (bodies
//          delimited by Content-Length or chunked encoding)
//
// Readers never throw and never crash on malformed input: the error names the source, the line (or entry)
// and what is wrong. Input is untrusted: sizes are checked before they are used.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "request.h"

namespace guardctl {

enum class Format { kJsonl, kHar, kHttp };

// "jsonl" / "har" / "http"; error for anything else.
absl::StatusOr<Format> ParseFormat(std::string_view name);
// Guess from the file name: *.har -> har, *.http / *.txt -> http, otherwise jsonl.
Format FormatFromPath(std::string_view path);

// `source` names the input in error messages (usually the file name).
absl::StatusOr<std::vector<Request>> ReadJsonl(std::string_view text, std::string_view source);
absl::StatusOr<std::vector<Request>> ReadHar(std::string_view text, std::string_view source);
absl::StatusOr<std::vector<Request>> ReadHttp(std::string_view text, std::string_view source);

absl::StatusOr<std::vector<Request>> Read(Format format, std::string_view text, std::string_view source);
// Reads the whole file, then Read().
absl::StatusOr<std::vector<Request>> ReadFile(const std::string& path, Format format);

}  // namespace guardctl
