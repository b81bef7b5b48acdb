// The client thread against tests/mock_llm/mock_llm.py on a free 127.0.0.1 port: real sockets, real curl,
// real JSON. Covers the three protocols, failover on 500s, breaker open -> half-open -> closed, off-schema
// answers, 429 back-off, budget exhaustion, deadlines, connection refused, lazy start and blocked signals.
#include <catch2/catch.hpp>

#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "providers/client.h"
#include "rapidjson/document.h"

extern char** environ;
using namespace guard::providers;

namespace {

// Starts the mock on a free port and stops it (by pid) when the test ends.
class MockServer {
 public:
  MockServer() {
    dir_ = std::filesystem::temp_directory_path() / ("mock_llm_" + std::to_string(getpid()) + "_" +
                                                     std::to_string(counter_++));
    std::filesystem::create_directories(dir_);
    std::string port_file = (dir_ / "port").string();
    std::string script = std::string(GUARD_SOURCE_DIR) + "/tests/mock_llm/mock_llm.py";
    const char* argv[] = {"/usr/bin/python3", script.c_str(), "--port", "0", "--port-file", port_file.c_str(),
                          "--max-lifetime", "120", nullptr};
    posix_spawn_file_actions_t fa;  // its "listening" line would only clutter the test output
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    int rc = posix_spawn(&pid_, argv[0], &fa, nullptr, const_cast<char**>(argv), environ);
    posix_spawn_file_actions_destroy(&fa);
    REQUIRE(rc == 0);
    for (int i = 0; i < 200 && port_ == 0; ++i) {
      std::ifstream in(port_file);
      if (!(in >> port_)) {
        port_ = 0;
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
      }
    }
    REQUIRE(port_ > 0);
  }
  ~MockServer() {
    Stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  void Stop() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
      pid_ = 0;
    }
  }
  std::string Url(const std::string& name, const std::string& version = "v1") const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/" + name + "/" + version;
  }
  std::string Post(const std::string& path, const std::string& body) { return Http(path, &body); }
  std::string Get(const std::string& path) { return Http(path, nullptr); }
  int Calls(const std::string& name) {
    rapidjson::Document d;
    std::string s = Get("/_stats");
    d.Parse(s.c_str());
    if (d.HasParseError() || !d["calls"].HasMember(name.c_str())) return 0;
    return d["calls"][name.c_str()].GetInt();
  }
  // The last call the mock received for `name`, as JSON.
  std::string Last(const std::string& name) {
    rapidjson::Document d;
    std::string s = Get("/_stats");
    d.Parse(s.c_str());
    if (d.HasParseError() || !d["last"].HasMember(name.c_str())) return "";
    const auto& l = d["last"][name.c_str()];
    return std::string(l["prompt"].GetString()) + "\n" +
           (l["headers"].HasMember("authorization") ? l["headers"]["authorization"].GetString() : "") + "\n" +
           (l["headers"].HasMember("x-api-key") ? l["headers"]["x-api-key"].GetString() : "");
  }

 private:
  std::string Http(const std::string& path, const std::string* body) {
    CURL* c = curl_easy_init();
    std::string out;
    std::string url = "http://127.0.0.1:" + std::to_string(port_) + path;
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    if (body) curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->c_str());
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, +[](char* p, size_t s, size_t n, void* u) {
      static_cast<std::string*>(u)->append(p, s * n);
      return s * n;
    });
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_cleanup(c);
    REQUIRE(rc == CURLE_OK);
    return out;
  }
  static inline int counter_ = 0;
  std::filesystem::path dir_;
  pid_t pid_ = 0;
  int port_ = 0;
};

ProviderConfig Provider(const std::string& name, ProviderKind kind, const std::string& url, int priority) {
  ProviderConfig p;
  p.name = name;
  p.kind = kind;
  p.base_url = url;
  p.model = "mock-model";
  p.api_key = "test-key-" + name;
  p.priority = priority;
  p.timeout = absl::Seconds(3);
  p.breaker.consecutive_failures = 2;
  p.breaker.error_rate = 0;
  p.breaker.cooldown = absl::Milliseconds(300);
  return p;
}

AiJob SqliJob(absl::Duration deadline = absl::Seconds(5)) {
  AiJob j;
  j.request.method = "GET";
  j.request.path = "/items";
  j.request.query = "id=1%27%20UNION%20SELECT%20password%20FROM%20users--";
  j.request.headers = {{"User-Agent", "Mozilla/5.0"}, {"Authorization", "Bearer SUPER-SECRET-TOKEN"}};
  j.deadline = deadline;
  j.risk = 0.8;
  return j;
}

AiJob BenignJob() {
  AiJob j;
  j.request.method = "POST";
  j.request.path = "/api/comments";
  j.request.headers = {{"Content-Type", "application/json"}};
  j.request.body = R"({"text":"Great article, thanks!"})";
  j.deadline = absl::Seconds(5);
  return j;
}

JobResult Wait(Client& c, uint64_t id, absl::Duration max = absl::Seconds(8)) {
  absl::Time until = absl::Now() + max;
  while (absl::Now() < until) {
    JobResult r = c.Poll(id);
    if (r.state != JobState::kPending) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  FAIL("job " << id << " still pending");
  return {};
}

const ProviderMetrics& M(const ClientMetrics& m, const std::string& name) {
  for (const ProviderMetrics& p : m.providers) {
    if (p.name == name) return p;
  }
  FAIL("no metrics for " << name);
  return m.providers.front();
}

int ThreadCount() {
  int n = 0;
  for (auto& e : std::filesystem::directory_iterator("/proc/self/task")) n += e.is_directory() ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("each protocol gets a schema-valid verdict from the mock, and secrets do not leave") {
  MockServer mock;
  struct Case {
    const char* name;
    ProviderKind kind;
    const char* version;
  } cases[] = {{"openai", ProviderKind::kOpenAI, "v1"},
               {"anthropic", ProviderKind::kAnthropic, "v1"},
               {"gemini", ProviderKind::kGemini, "v1beta"}};
  for (const Case& k : cases) {
    INFO(k.name);
    AiConfig cfg;
    cfg.providers = {Provider(k.name, k.kind, mock.Url(k.name, k.version), 1)};
    auto client = Client::Create(cfg);
    REQUIRE(client.ok());
    auto id = (*client)->Submit(SqliJob());
    REQUIRE(id.ok());
    JobResult r = Wait(**client, *id);
    REQUIRE(r.state == JobState::kDone);
    CHECK(r.verdict.threat);
    CHECK(r.verdict.category == "sqli");
    CHECK(r.verdict.action == AiAction::kBlock);
    CHECK(r.provider == k.name);
    CHECK(r.attempts == 1);
    CHECK((*client)->Poll(*id).state == JobState::kUnknown);  // a final state is read once

    std::string seen = mock.Last(k.name);
    CHECK(seen.find("SUPER-SECRET-TOKEN") == std::string::npos);
    CHECK(seen.find("UNION SELECT") == std::string::npos);  // sent percent-encoded inside the JSON data
    if (k.kind == ProviderKind::kOpenAI) CHECK(seen.find("Bearer test-key-openai") != std::string::npos);
    if (k.kind == ProviderKind::kAnthropic) CHECK(seen.find("test-key-anthropic") != std::string::npos);

    auto benign = (*client)->Submit(BenignJob());
    REQUIRE(benign.ok());
    JobResult b = Wait(**client, *benign);
    REQUIRE(b.state == JobState::kDone);
    CHECK_FALSE(b.verdict.threat);
    CHECK(b.verdict.category == "none");

    ClientMetrics m = (*client)->Metrics();
    rapidjson::Document mj;
    std::string json = MetricsJson(m);
    mj.Parse(json.c_str());
    REQUIRE_FALSE(mj.HasParseError());
    CHECK(mj["providers"][k.name]["calls"].GetInt() == 2);
    CHECK(std::string(mj["providers"][k.name]["breaker"].GetString()) == "closed");
    CHECK(M(m, k.name).calls == 2);
    CHECK(M(m, k.name).successes == 2);
    CHECK(M(m, k.name).input_tokens > 0);
    CHECK(M(m, k.name).output_tokens > 0);
    CHECK(M(m, k.name).ewma_latency_ms > 0);
    CHECK(m.done == 2);
  }
}

TEST_CASE("failover on 500s, then breaker open -> half-open -> closed") {
  MockServer mock;
  mock.Post("/_control", R"({"primary": {"error_rate": 1.0}})");
  AiConfig cfg;
  cfg.strategy = Strategy::kPriority;
  cfg.providers = {Provider("primary", ProviderKind::kOpenAI, mock.Url("primary"), 1),
                   Provider("backup", ProviderKind::kAnthropic, mock.Url("backup"), 2)};
  auto client = Client::Create(cfg);
  REQUIRE(client.ok());
  Client& c = **client;

  for (int i = 0; i < 2; ++i) {
    JobResult r = Wait(c, *c.Submit(SqliJob()));
    REQUIRE(r.state == JobState::kDone);
    CHECK(r.provider == "backup");
    CHECK(r.attempts == 2);
    CHECK(r.verdict.category == "sqli");
  }
  CHECK(mock.Calls("primary") == 2);
  CHECK(M(c.Metrics(), "primary").breaker == BreakerState::kOpen);
  CHECK(M(c.Metrics(), "primary").failures == 2);

  // Open: the primary is skipped without a call.
  JobResult direct = Wait(c, *c.Submit(SqliJob()));
  REQUIRE(direct.state == JobState::kDone);
  CHECK(direct.provider == "backup");
  CHECK(direct.attempts == 1);
  CHECK(mock.Calls("primary") == 2);

  // The primary recovers; after the cooldown one probe goes through and closes the breaker.
  mock.Post("/_control", R"({"primary": {"error_rate": 0}})");
  std::this_thread::sleep_for(std::chrono::milliseconds(350));
  CHECK(M(c.Metrics(), "primary").breaker == BreakerState::kHalfOpen);
  JobResult probe = Wait(c, *c.Submit(SqliJob()));
  REQUIRE(probe.state == JobState::kDone);
  CHECK(probe.provider == "primary");
  CHECK(mock.Calls("primary") == 3);
  CHECK(M(c.Metrics(), "primary").breaker == BreakerState::kClosed);
}

TEST_CASE("off-schema and malformed answers are failures that fail over, never verdicts") {
  MockServer mock;
  mock.Post("/_control", R"({"a": {"off_schema": true}, "b": {"malformed": true}})");
  AiConfig cfg;
  cfg.strategy = Strategy::kPriority;
  cfg.providers = {Provider("a", ProviderKind::kOpenAI, mock.Url("a"), 1),
                   Provider("b", ProviderKind::kGemini, mock.Url("b", "v1beta"), 2),
                   Provider("c", ProviderKind::kAnthropic, mock.Url("c"), 3)};
  auto client = Client::Create(cfg);
  REQUIRE(client.ok());
  JobResult r = Wait(**client, *(*client)->Submit(SqliJob()));
  REQUIRE(r.state == JobState::kDone);
  CHECK(r.provider == "c");
  CHECK(r.attempts == 3);
  ClientMetrics m = (*client)->Metrics();
  CHECK(M(m, "a").invalid_answers == 1);
  CHECK(M(m, "b").invalid_answers == 1);

  // With every provider off-schema the job fails; it never turns into an allow.
  mock.Post("/_control", R"({"*": {"off_schema": true}})");
  JobResult f = Wait(**client, *(*client)->Submit(SqliJob()));
  CHECK(f.state == JobState::kFailed);
  CHECK(f.reason.find("off-schema") != std::string::npos);
}

TEST_CASE("a 429 backs the provider off until its retry-after, and the job fails over") {
  MockServer mock;
  mock.Post("/_control", R"({"limited": {"rpm": 2}})");
  AiConfig cfg;
  cfg.strategy = Strategy::kPriority;
  cfg.providers = {Provider("limited", ProviderKind::kOpenAI, mock.Url("limited"), 1),
                   Provider("other", ProviderKind::kOpenAI, mock.Url("other"), 2)};
  auto client = Client::Create(cfg);
  REQUIRE(client.ok());
  Client& c = **client;
  CHECK(Wait(c, *c.Submit(SqliJob())).provider == "limited");
  // Another gateway node spends the last request of the minute: our own count still shows one left.
  mock.Post("/limited/v1/chat/completions", R"({"model":"m","messages":[{"role":"user","content":"hi"}]})");
  JobResult second = Wait(c, *c.Submit(SqliJob()));
  CHECK(second.provider == "other");  // limited answered 429
  CHECK(second.attempts == 2);
  JobResult third = Wait(c, *c.Submit(SqliJob()));
  CHECK(third.provider == "other");
  CHECK(third.attempts == 1);          // backed off: no call to limited
  CHECK(mock.Calls("limited") == 3);
  ClientMetrics m = c.Metrics();
  CHECK(M(m, "limited").rate_limited >= 1);
  CHECK(M(m, "limited").breaker == BreakerState::kClosed);  // a 429 is not a provider failure
}

TEST_CASE("the daily budget stops calls cleanly, and the next UTC day resumes them") {
  MockServer mock;
  FakeClock clock(absl::FromUnixSeconds(1'800'000'000 - 1'800'000'000 % 86400 + 3600));
  ClientOptions opts;
  opts.clock = &clock;  // quota windows follow the injected clock; only curl's timeouts are real time
  AiConfig cfg;
  cfg.budget_usd_per_day = 1.0;
  cfg.providers = {Provider("paid", ProviderKind::kOpenAI, mock.Url("paid"), 1)};
  cfg.providers[0].usd_per_1m_input = 1000;   // ~0.5 $ per estimated call
  cfg.providers[0].usd_per_1m_output = 1000;
  auto client = Client::Create(cfg, opts);
  REQUIRE(client.ok());
  Client& c = **client;
  int done = 0;
  JobResult last;
  for (int i = 0; i < 6; ++i) {
    last = Wait(c, *c.Submit(SqliJob()));
    if (last.state == JobState::kDone) ++done;
  }
  CHECK(done >= 1);
  CHECK(done < 6);
  CHECK(last.state == JobState::kFailed);
  CHECK(last.reason.find("budget_usd_per_day") != std::string::npos);
  CHECK(mock.Calls("paid") == done);
  CHECK(M(c.Metrics(), "paid").cost_usd <= 1.0 + 1e-9);
  clock.Advance(absl::Hours(24));
  JobResult next_day = Wait(c, *c.Submit(SqliJob()));
  CHECK(next_day.state == JobState::kDone);
  CHECK(mock.Calls("paid") == done + 1);
}

TEST_CASE("with an injected clock, a job already past its deadline makes no call") {
  MockServer mock;
  FakeClock clock;
  ClientOptions opts;
  opts.clock = &clock;
  AiConfig cfg;
  cfg.providers = {Provider("p", ProviderKind::kOpenAI, mock.Url("p"), 1)};
  auto client = Client::Create(cfg, opts);
  REQUIRE(client.ok());
  JobResult r = Wait(**client, *(*client)->Submit(SqliJob(absl::Milliseconds(5))));
  CHECK(r.state == JobState::kFailed);
  CHECK(r.reason == "deadline");
  CHECK(r.attempts == 0);
  CHECK(mock.Calls("p") == 0);
}

TEST_CASE("a provider that goes down mid-run fails its jobs with the transport error") {
  MockServer mock;
  AiConfig cfg;
  cfg.providers = {Provider("solo", ProviderKind::kGemini, mock.Url("solo", "v1beta"), 1)};
  auto client = Client::Create(cfg);
  REQUIRE(client.ok());
  CHECK(Wait(**client, *(*client)->Submit(SqliJob())).state == JobState::kDone);
  mock.Stop();  // connection refused from now on (the kept-alive connection dies with the server)
  JobResult r = Wait(**client, *(*client)->Submit(SqliJob()));
  CHECK(r.state == JobState::kFailed);
  CHECK(r.reason.find("solo") != std::string::npos);
  CHECK(M((*client)->Metrics(), "solo").failures == 1);
}

TEST_CASE("deadlines bound a slow provider, and connection refused fails over") {
  MockServer mock;
  mock.Post("/_control", R"({"slow": {"latency_ms": 1500}})");
  // A port with nothing listening: bind, read the port, close.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int dead_port = ntohs(a.sin_port);
  close(fd);

  AiConfig cfg;
  cfg.strategy = Strategy::kPriority;
  cfg.providers = {Provider("down", ProviderKind::kOpenAI, "http://127.0.0.1:" + std::to_string(dead_port) + "/v1", 1),
                   Provider("slow", ProviderKind::kOpenAI, mock.Url("slow"), 2)};
  auto client = Client::Create(cfg);
  REQUIRE(client.ok());
  absl::Time start = absl::Now();
  JobResult r = Wait(**client, *(*client)->Submit(SqliJob(absl::Milliseconds(400))));
  absl::Duration took = absl::Now() - start;
  CHECK(r.state == JobState::kFailed);
  CHECK(r.attempts == 2);  // refused, then timed out against the deadline
  CHECK(r.reason.find("down") == std::string::npos);  // the last error is the slow one
  CHECK(r.reason.find("slow") != std::string::npos);
  CHECK(took < absl::Milliseconds(1000));
  ClientMetrics m = (*client)->Metrics();
  CHECK(M(m, "down").failures == 1);
  CHECK(M(m, "slow").failures == 1);
  CHECK(m.expired + m.failed >= 1);
}

TEST_CASE("a saturated provider queues jobs and sheds the lowest risk first") {
  MockServer mock;
  mock.Post("/_control", R"({"one": {"latency_ms": 300}})");
  AiConfig cfg;
  cfg.providers = {Provider("one", ProviderKind::kOpenAI, mock.Url("one"), 1)};
  cfg.providers[0].max_concurrency = 1;
  cfg.providers[0].max_queue = 1;
  auto client = Client::Create(cfg);
  REQUIRE(client.ok());
  Client& c = **client;
  AiJob first = SqliJob(), low = SqliJob(), high = SqliJob();
  low.risk = 0.1;
  high.risk = 0.9;
  // Wait on the gauges rather than sleeping a guessed time: the steps must happen in this order.
  auto wait_gauge = [&](int in_flight, int queued) {
    for (int i = 0; i < 400; ++i) {
      ProviderMetrics m = M(c.Metrics(), "one");
      if (m.in_flight == in_flight && m.queued == queued) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return false;
  };
  uint64_t id1 = *c.Submit(first);
  REQUIRE(wait_gauge(1, 0));  // id1 is in flight
  uint64_t id_low = *c.Submit(low);
  REQUIRE(wait_gauge(1, 1));  // id_low waits in the queue
  uint64_t id_high = *c.Submit(high);
  JobResult r_low = Wait(c, id_low);
  CHECK(r_low.state == JobState::kFailed);
  CHECK(r_low.reason.rfind("shed", 0) == 0);
  CHECK(Wait(c, id1).state == JobState::kDone);
  CHECK(Wait(c, id_high).state == JobState::kDone);
  CHECK(c.Metrics().shed == 1);
}

TEST_CASE("the thread starts lazily with every signal blocked, and shutdown fails pending jobs") {
  MockServer mock;
  mock.Post("/_control", R"({"lazy": {"latency_ms": 2000}})");
  AiConfig cfg;
  cfg.providers = {Provider("lazy", ProviderKind::kOpenAI, mock.Url("lazy"), 1)};
  int before = ThreadCount();
  auto client = Client::Create(cfg);
  REQUIRE(client.ok());
  CHECK(ThreadCount() == before);  // nothing started by construction
  auto id = (*client)->Submit(SqliJob());
  REQUIRE(id.ok());
  CHECK(ThreadCount() == before + 1);

  // The new thread's SigBlk in /proc has every bit of the standard and realtime signals set.
  bool found_all_blocked = false;
  for (auto& e : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream status(e.path() / "status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("SigBlk:", 0) == 0) {
        UNSCOPED_INFO(e.path().filename().string() << " " << line);
        unsigned long long mask = std::stoull(line.substr(7), nullptr, 16);
        // SIGKILL and SIGSTOP never show as blocked; some glibc versions also keep their internal signals
        // 32 and 33 (cancellation, setxid) unblocked.
        unsigned long long ignore = (1ull << (SIGKILL - 1)) | (1ull << (SIGSTOP - 1)) | (3ull << 31);
        if ((mask | ignore) == ~0ull) {
          found_all_blocked = true;
        }
      }
    }
  }
  CHECK(found_all_blocked);
  CHECK(ThreadCount() == before + 1);  // the main thread still has its normal mask

  (*client)->Shutdown();
  CHECK(ThreadCount() == before);
  JobResult r = (*client)->Poll(*id);
  CHECK(r.state == JobState::kFailed);
  CHECK(r.reason == "shutdown");
  CHECK_FALSE((*client)->Submit(SqliJob()).ok());
}

TEST_CASE("a cancelled job is forgotten") {
  MockServer mock;
  AiConfig cfg;
  cfg.providers = {Provider("x", ProviderKind::kOpenAI, mock.Url("x"), 1)};
  auto client = Client::Create(cfg);
  REQUIRE(client.ok());
  uint64_t id = *(*client)->Submit(SqliJob());
  (*client)->Cancel(id);
  CHECK((*client)->Poll(id).state == JobState::kUnknown);
  // The client keeps working after a cancel.
  CHECK(Wait(**client, *(*client)->Submit(BenignJob())).state == JobState::kDone);
}
