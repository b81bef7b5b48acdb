// Client key, user-agent classes and the header fingerprint (see client.h).
#include "fingerprint/client.h"

#include <algorithm>
#include <cstdio>

#include "fingerprint/stable_hash.h"

namespace guard::fingerprint {
namespace {

inline char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool EqualsLower(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (Lower(a[i]) != lower[i]) return false;
  return true;
}

bool StartsWithLower(std::string_view a, std::string_view lower) {
  return a.size() >= lower.size() && EqualsLower(a.substr(0, lower.size()), lower);
}

bool Contains(std::string_view hay, std::initializer_list<std::string_view> needles) {
  for (auto n : needles)
    if (hay.find(n) != std::string_view::npos) return true;
  return false;
}

// Headers added by proxies and load balancers in front of Kong: they say nothing about the client.
bool IsProxyHeader(std::string_view name) {
  return StartsWithLower(name, "x-forwarded-") || EqualsLower(name, "x-real-ip") ||
         EqualsLower(name, "forwarded") || EqualsLower(name, "via") || EqualsLower(name, "x-request-id") ||
         StartsWithLower(name, "cf-") || StartsWithLower(name, "x-amzn-") || EqualsLower(name, "cdn-loop");
}

}  // namespace

std::string_view UaClassName(UaClass c) {
  static constexpr std::string_view kNames[] = {"empty", "browser", "bot", "scanner", "cli", "library", "other"};
  return kNames[static_cast<int>(c)];
}

UaClass ClassifyUserAgent(std::string_view ua) {
  if (ua.find_first_not_of(" \t") == std::string_view::npos) return UaClass::kEmpty;
  char buf[512];
  size_t n = std::min(ua.size(), sizeof(buf));
  for (size_t i = 0; i < n; ++i) buf[i] = Lower(ua[i]);
  std::string_view s(buf, n);
  // Order matters: scanners often embed "Mozilla/5.0", crawlers too.
  if (Contains(s, {"sqlmap", "nikto", "nmap", "masscan", "zgrab", "nuclei", "dirbuster", "gobuster", "wpscan",
                   "acunetix", "burp", "ffuf", "wfuzz", "havij", "netsparker", "openvas", "nessus", "jaeles",
                   "feroxbuster", "commix", "arachni", "w3af", "zap/"}))
    return UaClass::kScanner;
  if (Contains(s, {"bot", "crawler", "spider", "slurp", "crawl", "facebookexternalhit", "+http", "archiver"}))
    return UaClass::kBot;
  if (Contains(s, {"curl/", "wget/", "httpie/", "powershell/", "lwp-request", "fetch/", "aria2/", "xh/"}))
    return UaClass::kCliTool;
  if (Contains(s, {"python-requests", "python-urllib", "python-httpx", "aiohttp", "go-http-client", "java/",
                   "okhttp", "axios", "node-fetch", "undici", "libwww-perl", "ruby", "php/", "guzzle",
                   "apache-httpclient", "restsharp", "dart:io", "reqwest", "scrapy", "headlesschrome",
                   "phantomjs", "libcurl"}))
    return UaClass::kLibrary;
  if (s.starts_with("mozilla/5.0") && Contains(s, {"applewebkit", "gecko/", "trident/"}))
    return UaClass::kBrowser;
  return UaClass::kOther;
}

HeaderFingerprint FingerprintHeaders(std::span<const HeaderView> headers) {
  HeaderFingerprint fp;
  StableHasher h;
  h.Add("kgh1");
  bool lower = false, title = false, odd = false;
  std::string_view ua;
  for (const HeaderView& hv : headers) {
    if (hv.name.empty() || IsProxyHeader(hv.name)) continue;
    if (EqualsLower(hv.name, "accept")) fp.traits |= kHasAccept;
    else if (EqualsLower(hv.name, "accept-language")) fp.traits |= kHasAcceptLanguage;
    else if (EqualsLower(hv.name, "accept-encoding")) fp.traits |= kHasAcceptEncoding;
    else if (EqualsLower(hv.name, "cookie")) fp.traits |= kHasCookie;
    else if (StartsWithLower(hv.name, "sec-ch-ua")) fp.traits |= kHasSecChUa;
    else if (EqualsLower(hv.name, "referer")) fp.traits |= kHasReferer;
    else if (EqualsLower(hv.name, "user-agent")) ua = hv.value;
    // Casing: Title-Case means every letter that starts a dash-separated word is upper, the rest lower.
    bool all_lower = true, is_title = true;
    for (size_t i = 0; i < hv.name.size(); ++i) {
      char c = hv.name[i];
      bool word_start = i == 0 || hv.name[i - 1] == '-';
      if (c >= 'A' && c <= 'Z') {
        all_lower = false;
        if (!word_start) is_title = false;
      } else if (c >= 'a' && c <= 'z' && word_start) {
        is_title = false;
      }
    }
    bool acronym = hv.name.size() <= 4 && hv.name.find_first_of("abcdefghijklmnopqrstuvwxyz") == std::string_view::npos;
    if (acronym) {
      // "DNT", "TE": upper-case in every client, they say nothing about the casing style.
    } else if (all_lower) {
      lower = true;
    } else if (is_title) {
      title = true;
    } else {
      odd = true;
    }
    if (fp.names < 32) {
      char name[64];
      size_t n = std::min(hv.name.size(), sizeof(name));
      for (size_t i = 0; i < n; ++i) name[i] = Lower(hv.name[i]);
      h.Add(std::string_view(name, n));
      ++fp.names;
    }
  }
  fp.casing = odd || (lower && title) ? NameCasing::kMixed : title ? NameCasing::kTitle : NameCasing::kLower;
  fp.ua_class = ClassifyUserAgent(ua);
  if (!ua.empty()) fp.ua_hash = StableHash64(ua);
  if (fp.ua_class == UaClass::kBrowser && (fp.traits & (kHasAccept | kHasAcceptLanguage)) !=
                                              (kHasAccept | kHasAcceptLanguage))
    fp.traits |= kUaInconsistent;
  h.AddU64(static_cast<uint64_t>(fp.casing));
  h.AddU64(fp.traits);
  h.AddU64(static_cast<uint64_t>(fp.ua_class));
  fp.hash = h.Finish().lo;
  return fp;
}

std::string DescribeHeaderFingerprint(const HeaderFingerprint& fp) {
  static constexpr std::string_view kCasing[] = {"lower", "title", "mixed"};
  char buf[96];
  std::snprintf(buf, sizeof(buf), "kgh1:%s:%02x:%s:%012llx", kCasing[static_cast<int>(fp.casing)].data(),
                fp.traits, UaClassName(fp.ua_class).data(),
                static_cast<unsigned long long>(fp.hash >> 16));
  return buf;
}

ClientKey MakeClientKey(std::string_view client_ip, std::string_view consumer_id) {
  StableHasher h;
  if (!consumer_id.empty()) {
    h.Add("consumer");
    h.Add(consumer_id);
    return ClientKey{h.Finish().lo, true};
  }
  h.Add("ip");
  h.Add(client_ip);
  return ClientKey{h.Finish().lo, false};
}

}  // namespace guard::fingerprint
