// modsec_scan: the ModSecurity v3 + OWASP CRS 3.3 baseline that libguard is compared against.
//
// Replays the same corpus files guardctl reads (tests/corpus/*.jsonl, HAR, raw HTTP; the readers are
// shared through guardctl_readers) through libmodsecurity transactions with Debian's CRS package, and prints
// one JSON line per request: {"id","action","score","categories","rule_ids","us"}. The configuration is
// that of modsecurity.conf-recommended (engine on, request body access, XML/JSON body processors chosen by
// Content-Type, strict multipart and body-error rules) plus CRS with the paranoia level from --paranoia
// and the default inbound anomaly threshold (5). The tuning an API operator makes on day one is applied
// (--crs-defaults turns it off): PUT, PATCH and DELETE are allowed methods (CRS 900200), and
// application/json-patch+json, application/octet-stream and text/plain are allowed content types (900220).
//
// Time per request covers the whole transaction (creation to destruction, request phases only) on a
// steady clock; rule loading is outside it.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <modsecurity/intervention.h>
#include <modsecurity/modsecurity.h>
#include <modsecurity/rule_message.h>
#include <modsecurity/rules_set.h>
#include <modsecurity/transaction.h>
#include <modsecurity/collection/collection.h>
#include <modsecurity/collection/collections.h>

#include "readers.h"

namespace {

constexpr const char* kDefaultCrsSetup = "/etc/modsecurity/crs/crs-setup.conf";
constexpr const char* kDefaultCrsRules = "/usr/share/modsecurity-crs/rules";

std::string Config(int paranoia, bool api_tuning, const std::string& setup, const std::string& rules_dir) {
  std::ostringstream c;
  // modsecurity.conf-recommended (v3), without the audit log and debug log.
  c << "SecRuleEngine On\n"
       "SecRequestBodyAccess On\n"
       "SecRule REQUEST_HEADERS:Content-Type \"^(?:application(?:/soap\\+|/)|text/)xml\" "
       "\"id:200000,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML\"\n"
       "SecRule REQUEST_HEADERS:Content-Type \"^application/json\" "
       "\"id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON\"\n"
       "SecRequestBodyLimit 13107200\n"
       "SecRequestBodyNoFilesLimit 131072\n"
       "SecRequestBodyLimitAction Reject\n"
       "SecRule REQBODY_ERROR \"!@eq 0\" "
       "\"id:200002,phase:2,t:none,log,deny,status:400,msg:'Failed to parse request body.',severity:2\"\n"
       "SecRule MULTIPART_STRICT_ERROR \"!@eq 0\" "
       "\"id:200003,phase:2,t:none,log,deny,status:400,msg:'Multipart request body failed strict validation'\"\n"
       "SecRule MULTIPART_UNMATCHED_BOUNDARY \"@eq 1\" "
       "\"id:200004,phase:2,t:none,log,deny,msg:'Multipart parser detected a possible unmatched boundary.'\"\n"
       "SecPcreMatchLimit 1000\n"
       "SecPcreMatchLimitRecursion 1000\n"
       "SecResponseBodyAccess Off\n"
       "SecAuditEngine Off\n"
       "SecArgumentSeparator &\n"
       "SecCookieFormat 0\n"
       "SecStatusEngine Off\n";
  // CRS variables set before crs-setup.conf, as its comments ask; REQUEST-901 keeps values already set.
  c << "SecAction \"id:900000,phase:1,nolog,pass,t:none,setvar:tx.paranoia_level=" << paranoia << "\"\n";
  c << "SecAction \"id:900001,phase:1,nolog,pass,t:none,setvar:tx.executing_paranoia_level=" << paranoia << "\"\n";
  c << "SecAction \"id:900110,phase:1,nolog,pass,t:none,setvar:tx.inbound_anomaly_score_threshold=5,"
       "setvar:tx.outbound_anomaly_score_threshold=4\"\n";
  if (api_tuning) {
    c << "SecAction \"id:900200,phase:1,nolog,pass,t:none,"
         "setvar:'tx.allowed_methods=GET HEAD POST OPTIONS PUT PATCH DELETE'\"\n";
    c << "SecAction \"id:900220,phase:1,nolog,pass,t:none,"
         "setvar:'tx.allowed_request_content_type=|application/x-www-form-urlencoded| |multipart/form-data| "
         "|multipart/related| |text/xml| |application/xml| |application/soap+xml| |application/json| "
         "|application/cloudevents+json| |application/cloudevents-batch+json| |application/json-patch+json| "
         "|application/octet-stream| |text/plain|'\"\n";
  }
  c << "Include " << setup << "\n";
  c << "Include " << rules_dir << "/REQUEST-*.conf\n";
  return c.str();
}

// CRS rule id -> our category names (tests/corpus categories).
std::vector<std::string> CategoriesOf(int id) {
  int file = id / 1000;
  switch (file) {
    case 200: return {"protocol"};  // body parser / multipart strictness (modsecurity.conf-recommended)
    case 911: case 912: case 920: case 922: return {"protocol"};
    case 913: return {"scanner"};
    case 921:
      if (id == 921120 || id == 921130 || id == 921140 || id == 921150 || id == 921151 || id == 921160) return {"crlf"};
      return {"protocol"};
    case 930: return {"traversal"};
    case 931: return {"rfi"};
    case 932: return {"cmdi"};
    case 933: case 934: return {"code"};
    case 941: return {"xss"};
    case 942: return {"sqli"};
    case 944: return {"code"};
    default: return {};
  }
}

bool Reported(int id) {
  // Bookkeeping rules (initialisation, paranoia skips, blocking evaluation, correlation) are not detections.
  int file = id / 1000;
  return id > 0 && file != 901 && file != 949 && file != 959 && file != 980 && file != 900 && id % 1000 >= 100;
}

std::string JsonEscape(std::string_view s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += static_cast<char>(c);
    } else if (c < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      o += b;
    } else {
      o += static_cast<char>(c);
    }
  }
  return o + "\"";
}

struct Result {
  bool block = false;
  int score = 0;
  std::set<std::string> categories;
  std::vector<int> rule_ids;
  double us = 0;
};

Result Inspect(modsecurity::ModSecurity* msc, modsecurity::RulesSet* rules, const guardctl::Request& r) {
  Result res;
  auto t0 = std::chrono::steady_clock::now();
  {
    modsecurity::Transaction t(msc, rules, nullptr);
    t.processConnection(r.client_ip.c_str(), 41234, "127.0.0.1", 80);
    t.processURI(r.target.c_str(), r.method.c_str(), "1.1");
    for (const auto& [n, v] : r.headers) {
      t.addRequestHeader(reinterpret_cast<const unsigned char*>(n.data()), n.size(),
                         reinterpret_cast<const unsigned char*>(v.data()), v.size());
    }
    t.processRequestHeaders();
    modsecurity::ModSecurityIntervention it;
    modsecurity::intervention::clean(&it);
    bool disrupted = t.intervention(&it);
    if (!disrupted) {
      if (!r.body.empty()) t.appendRequestBody(reinterpret_cast<const unsigned char*>(r.body.data()), r.body.size());
      t.processRequestBody();
      disrupted = t.intervention(&it);
    }
    modsecurity::intervention::free(&it);
    res.block = disrupted;
    if (auto s = t.m_collections.m_tx_collection->resolveFirst("anomaly_score")) res.score = std::atoi(s->c_str());
    for (const auto& m : t.m_rulesMessages) {
      if (!Reported(m.m_ruleId)) continue;
      if (std::find(res.rule_ids.begin(), res.rule_ids.end(), m.m_ruleId) == res.rule_ids.end()) res.rule_ids.push_back(m.m_ruleId);
      for (auto& c : CategoriesOf(m.m_ruleId)) res.categories.insert(c);
    }
  }
  res.us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

int SelfTest(modsecurity::ModSecurity* msc, modsecurity::RulesSet* rules) {
  struct Case {
    const char* target;
    bool block;
  } cases[] = {
      {"/search?q=%27%20UNION%20SELECT%20password%20FROM%20users--", true},
      {"/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E", true},
      {"/download?file=../../../../etc/passwd", true},
      {"/ping?host=127.0.0.1%3Bcat%20/etc/passwd", true},
      {"/api/v1/products?q=red+shoes&page=2", false},
  };
  int failed = 0;
  for (const auto& c : cases) {
    guardctl::Request r;
    r.id = c.target;
    r.method = "GET";
    r.target = c.target;
    r.headers = {{"Host", "api.example.com"}, {"User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0"}, {"Accept", "*/*"}};
    Result res = Inspect(msc, rules, r);
    bool ok = res.block == c.block;
    failed += !ok;
    std::cerr << (ok ? "ok   " : "FAIL ") << (res.block ? "block " : "allow ") << c.target << " score=" << res.score << "\n";
  }
  std::cerr << (sizeof cases / sizeof cases[0]) - failed << " passed, " << failed << " failed\n";
  return failed ? 1 : 0;
}

constexpr const char* kUsage =
    "usage: modsec_scan [--paranoia N] [--format jsonl|har|http] [--crs-setup FILE] [--crs-rules DIR]\n"
    "                   [--crs-defaults] [--self-test] FILE...\n";

}  // namespace

int main(int argc, char** argv) {
  int paranoia = 1;
  bool api_tuning = true, self_test = false;
  std::string setup = kDefaultCrsSetup, rules_dir = kDefaultCrsRules, format;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << a << " needs a value\n" << kUsage;
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--paranoia") {
      paranoia = std::atoi(value().c_str());
      if (paranoia < 1 || paranoia > 4) {
        std::cerr << "--paranoia must be 1..4\n";
        return 2;
      }
    } else if (a == "--format") {
      format = value();
    } else if (a == "--crs-setup") {
      setup = value();
    } else if (a == "--crs-rules") {
      rules_dir = value();
    } else if (a == "--crs-defaults") {
      api_tuning = false;
    } else if (a == "--self-test") {
      self_test = true;
    } else if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      return 0;
    } else if (a.rfind("--", 0) == 0) {
      std::cerr << "unknown option " << a << "\n" << kUsage;
      return 2;
    } else {
      files.push_back(a);
    }
  }
  if (files.empty() && !self_test) {
    std::cerr << kUsage;
    return 2;
  }

  modsecurity::ModSecurity msc;
  msc.setConnectorInformation("kong-guard-ai modsec_scan");
  // Matches reach the connector as RuleMessage objects (as a server's error log would), not formatted text.
  msc.setServerLogCb([](void*, const void*) {}, modsecurity::RuleMessageLogProperty);
  modsecurity::RulesSet rules;
  std::string conf = Config(paranoia, api_tuning, setup, rules_dir);
  if (rules.load(conf.c_str(), "modsec_scan") < 0) {
    std::cerr << "modsec_scan: loading CRS failed: " << rules.getParserError() << "\n";
    return 2;
  }
  if (self_test) return SelfTest(&msc, &rules);

  std::vector<guardctl::Request> reqs;
  for (const auto& f : files) {
    guardctl::Format fmt = guardctl::FormatFromPath(f);
    if (!format.empty()) {
      auto p = guardctl::ParseFormat(format);
      if (!p.ok()) {
        std::cerr << "modsec_scan: " << p.status().message() << "\n";
        return 2;
      }
      fmt = *p;
    }
    auto rs = guardctl::ReadFile(f, fmt);
    if (!rs.ok()) {
      std::cerr << "modsec_scan: " << rs.status().message() << "\n";
      return 2;
    }
    for (auto& r : *rs) reqs.push_back(std::move(r));
  }
  for (auto& r : reqs) r.AddImpliedContentLength();
  // Warm-up: the first transactions pay for lazy initialisation (PCRE JIT, collections).
  for (size_t i = 0; i < std::min<size_t>(reqs.size(), 50); ++i) Inspect(&msc, &rules, reqs[i]);

  std::map<std::string, std::pair<int, int>> per_cat;  // category -> detected, total
  int benign = 0, fp = 0;
  std::vector<double> times;
  times.reserve(reqs.size());
  double total_us = 0;
  for (const auto& r : reqs) {
    Result res = Inspect(&msc, &rules, r);
    times.push_back(res.us);
    total_us += res.us;
    std::ostringstream line;
    line << "{\"id\":" << JsonEscape(r.id) << ",\"action\":\"" << (res.block ? "block" : "allow") << "\",\"score\":" << res.score
         << ",\"categories\":[";
    int k = 0;
    for (const auto& c : res.categories) line << (k++ ? "," : "") << JsonEscape(c);
    line << "],\"rule_ids\":[";
    for (size_t i = 0; i < res.rule_ids.size(); ++i) line << (i ? "," : "") << res.rule_ids[i];
    char us[32];
    std::snprintf(us, sizeof us, "%.1f", res.us);
    line << "],\"us\":" << us << "}";
    std::cout << line.str() << "\n";
    if (r.label == "attack") {
      auto& pc = per_cat[r.category];
      pc.first += res.block;
      pc.second += 1;
    } else if (r.label == "benign") {
      ++benign;
      fp += res.block;
    }
  }
  std::sort(times.begin(), times.end());
  auto pct = [&](double p) { return times.empty() ? 0.0 : times[std::min(times.size() - 1, static_cast<size_t>(p * times.size()))]; };
  char buf[256];
  std::cerr << "ModSecurity " << MODSECURITY_VERSION << " + CRS (" << rules_dir << "), paranoia " << paranoia
            << ", inbound threshold 5" << (api_tuning ? ", API methods and content types allowed" : ", CRS defaults") << "\n";
  int det = 0, tot = 0;
  for (const auto& [c, p] : per_cat) {
    std::snprintf(buf, sizeof buf, "  %-10s %4d/%-4d %6.1f%%\n", c.c_str(), p.first, p.second, 100.0 * p.first / p.second);
    std::cerr << buf;
    det += p.first;
    tot += p.second;
  }
  if (tot) {
    std::snprintf(buf, sizeof buf, "  %-10s %4d/%-4d %6.1f%%\n", "ALL", det, tot, 100.0 * det / tot);
    std::cerr << buf;
  }
  if (benign) {
    std::snprintf(buf, sizeof buf, "  false positives %d/%d (%.2f%%)\n", fp, benign, 100.0 * fp / benign);
    std::cerr << buf;
  }
  std::snprintf(buf, sizeof buf, "  %zu requests: median %.1f us, p99 %.1f us, %.0f requests/s (1 thread)\n", times.size(),
                pct(0.5), pct(0.99), total_us > 0 ? times.size() / (total_us / 1e6) : 0.0);
  std::cerr << buf;
  return 0;
}
