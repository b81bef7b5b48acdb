// AI escalation through the C ABI, as the plugin drives it: inspect sets GUARD_VERDICT_ESCALATE in the grey
// zone, guard_ai_submit queues the request, guard_ai_poll reports pending then a final state once, and
// guard_ai_status shows per-provider metrics. Runs tests/mock_llm/mock_llm.py on a free 127.0.0.1 port.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "guard.h"

extern char** environ;

namespace {

guard_str S(const char* s) { return {s, std::strlen(s)}; }

// The mock provider as a child process with the given extra flags; stopped by pid.
class Mock {
 public:
  explicit Mock(std::vector<std::string> flags = {}) {
    dir_ = std::filesystem::temp_directory_path() / ("ai_abi_mock_" + std::to_string(getpid()) + "_" +
                                                     std::to_string(counter_++));
    std::filesystem::create_directories(dir_);
    const std::string port_file = (dir_ / "port").string();
    const std::string script = std::string(GUARD_SOURCE_DIR) + "/tests/mock_llm/mock_llm.py";
    std::vector<std::string> args = {"/usr/bin/python3", script, "--port", "0", "--port-file", port_file,
                                     "--max-lifetime", "120"};
    args.insert(args.end(), flags.begin(), flags.end());
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    const int rc = posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    REQUIRE(rc == 0);
    for (int i = 0; i < 400 && port_ == 0; ++i) {
      std::ifstream in(port_file);
      if (!(in >> port_)) {
        port_ = 0;
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
      }
    }
    REQUIRE(port_ > 0);
  }
  ~Mock() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string Url(const std::string& name) const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/" + name + "/v1";
  }

 private:
  static inline int counter_ = 0;
  std::filesystem::path dir_;
  pid_t pid_ = 0;
  int port_ = 0;
};

// threshold 100 puts a plain SQL injection (score 5-15) in the grey zone [2, 100).
std::string Config(const std::string& url, const std::string& extra = "") {
  return R"({"anomaly_threshold": 100, "ai": {"deadline_ms": 3000, "strategy": "priority", )" + extra +
         R"("providers": [{"name": "mock", "kind": "openai", "base_url": ")" + url +
         R"(", "model": "m", "api_key": "k"}]}})";
}

guard_engine* NewEngine(const std::string& json) {
  guard_engine* e = nullptr;
  char err[512] = "";
  const int rc = guard_engine_new(json.data(), json.size(), &e, err, sizeof err);
  INFO(err);
  REQUIRE(rc == GUARD_OK);
  return e;
}

struct Req {
  std::vector<guard_header> headers;
  guard_request r{};
  explicit Req(const char* query) {
    r.method = S("GET");
    r.path = S("/items");
    r.query = S(query);
    r.client_ip = S("10.0.0.1");
    r.route_id = S("route-1");
    headers = {{S("Host"), S("api.example.com")}, {S("User-Agent"), S("Mozilla/5.0")}};
    r.headers = headers.data();
    r.header_count = headers.size();
  }
};

guard_verdict Inspect(const guard_engine* e, const Req& q) {
  guard_verdict v;
  char err[256] = "";
  REQUIRE(guard_inspect(e, &q.r, &v, err, sizeof err) == GUARD_OK);
  return v;
}

// Polls until a final state, as the plugin does between ngx.sleep steps (bounded: the job's own deadline
// is 3 s, so this never spins for long).
guard_ai_result WaitFinal(const guard_engine* e, uint64_t job) {
  guard_ai_result r{};
  char err[256] = "";
  for (int i = 0; i < 1000; ++i) {
    REQUIRE(guard_ai_poll(e, job, &r, err, sizeof err) == GUARD_OK);
    if (r.state != GUARD_AI_PENDING) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  FAIL("job still pending after 10 s");
  return r;
}

const char* kSqli = "id=1%27%20UNION%20SELECT%20password%20FROM%20users--";

}  // namespace

TEST_CASE("a grey-zone request is escalated and the mock's threat verdict comes back through the ABI") {
  Mock mock;
  guard_engine* e = NewEngine(Config(mock.Url("mock")));
  const guard_verdict v = Inspect(e, Req(kSqli));
  CHECK(v.action == GUARD_ACTION_ALLOW);
  CHECK(v.score > 0);
  REQUIRE((v.flags & GUARD_VERDICT_ESCALATE) != 0);

  uint64_t job = 0;
  char err[256] = "";
  Req q(kSqli);
  REQUIRE(guard_ai_submit(e, &q.r, &v, &job, err, sizeof err) == GUARD_OK);
  CHECK(job != 0);
  const guard_ai_result r = WaitFinal(e, job);
  REQUIRE(r.state == GUARD_AI_DONE);
  CHECK(r.action == GUARD_ACTION_BLOCK);
  CHECK(r.threat == 1);
  CHECK(r.category == GUARD_CAT_SQLI);
  CHECK(std::string(r.category_name) == "sqli");
  CHECK(std::string(r.provider) == "mock");
  CHECK(std::strlen(r.incident_id) == 32);
  CHECK(r.attempts == 1);

  // A final state is reported once.
  guard_ai_result again{};
  REQUIRE(guard_ai_poll(e, job, &again, err, sizeof err) == GUARD_OK);
  CHECK(again.state == GUARD_AI_UNKNOWN);

  char json[4096];
  size_t needed = 0;
  REQUIRE(guard_ai_status(e, json, sizeof json, &needed, err, sizeof err) == GUARD_OK);
  REQUIRE(needed < sizeof json);
  const std::string status(json);
  CHECK(status.find(R"("enabled":true)") != std::string::npos);
  CHECK(status.find(R"("mode":"sync")") != std::string::npos);
  CHECK(status.find(R"("mock":{"calls":1,"successes":1,"failures":0)") != std::string::npos);
  CHECK(status.find(R"("breaker":"closed")") != std::string::npos);
  guard_engine_free(e);
}

TEST_CASE("clean requests, blocks and engines without ai are not escalated") {
  Mock mock;
  guard_engine* e = NewEngine(Config(mock.Url("mock")));
  CHECK((Inspect(e, Req("q=shoes")).flags & GUARD_VERDICT_ESCALATE) == 0);
  guard_engine_free(e);

  // Same request, threshold at the default 5: the signatures block it themselves, no second opinion.
  const std::string blocking = R"({"ai": {"providers": [{"name": "mock", "kind": "openai", "base_url": ")" +
                               mock.Url("mock") + R"(", "model": "m"}]}})";
  e = NewEngine(blocking);
  const guard_verdict v = Inspect(e, Req(kSqli));
  CHECK(v.action == GUARD_ACTION_BLOCK);
  CHECK((v.flags & GUARD_VERDICT_ESCALATE) == 0);
  guard_engine_free(e);

  e = NewEngine(R"({"anomaly_threshold": 100})");
  const guard_verdict plain = Inspect(e, Req(kSqli));
  CHECK((plain.flags & GUARD_VERDICT_ESCALATE) == 0);
  uint64_t job = 7;
  char err[256] = "";
  Req q(kSqli);
  CHECK(guard_ai_submit(e, &q.r, &plain, &job, err, sizeof err) == GUARD_EINVAL);
  CHECK(std::string(err) == "the config has no ai section");
  CHECK(job == 0);
  char json[64];
  size_t needed = 0;
  REQUIRE(guard_ai_status(e, json, sizeof json, &needed, err, sizeof err) == GUARD_OK);
  CHECK(std::string(json) == R"({"enabled":false})");
  guard_engine_free(e);
}

TEST_CASE("an off-schema answer is a provider failure, never a verdict") {
  Mock mock({"--off-schema"});
  guard_engine* e = NewEngine(Config(mock.Url("mock")));
  const guard_verdict v = Inspect(e, Req(kSqli));
  REQUIRE((v.flags & GUARD_VERDICT_ESCALATE) != 0);
  uint64_t job = 0;
  char err[256] = "";
  Req q(kSqli);
  REQUIRE(guard_ai_submit(e, &q.r, &v, &job, err, sizeof err) == GUARD_OK);
  const guard_ai_result r = WaitFinal(e, job);
  CHECK(r.state == GUARD_AI_FAILED);
  CHECK(r.action == GUARD_ACTION_ALLOW);  // zeroed: nothing to read as a verdict
  CHECK(std::string(r.reason).find("mock") != std::string::npos);
  char json[4096];
  size_t needed = 0;
  REQUIRE(guard_ai_status(e, json, sizeof json, &needed, err, sizeof err) == GUARD_OK);
  CHECK(std::string(json).find(R"("invalid_answers":1)") != std::string::npos);
  guard_engine_free(e);
}

TEST_CASE("a too small status buffer reports the length needed; cancel and feedback validate their input") {
  Mock mock;
  guard_engine* e = NewEngine(Config(mock.Url("mock")));
  char small[8];
  size_t needed = 0;
  char err[256] = "";
  REQUIRE(guard_ai_status(e, small, sizeof small, &needed, err, sizeof err) == GUARD_OK);
  CHECK(needed > sizeof small);
  CHECK(std::strlen(small) == sizeof small - 1);
  CHECK(guard_ai_cancel(e, 12345, err, sizeof err) == GUARD_OK);  // unknown job: nothing to do
  CHECK(guard_ai_feedback(e, "mock", 4, 1, err, sizeof err) == GUARD_OK);
  CHECK(guard_ai_feedback(e, "nobody", 6, 1, err, sizeof err) == GUARD_EINVAL);
  CHECK(std::string(err) == "unknown provider: nobody");
  CHECK(guard_ai_submit(nullptr, nullptr, nullptr, nullptr, err, sizeof err) == GUARD_EINVAL);
  guard_engine_free(e);
}

TEST_CASE("the ai section is validated: grey zone within the threshold, provider keys by path") {
  char err[512] = "";
  guard_engine* e = nullptr;
  auto rc = [&](const std::string& json) { return guard_engine_new(json.data(), json.size(), &e, err, sizeof err); };
  CHECK(rc(R"({"anomaly_threshold": 5, "ai": {"escalate_min_score": 6, "providers": [{"name": "a", "kind": "openai", "base_url": "http://127.0.0.1:1/v1", "model": "m"}]}})") == GUARD_ECONFIG);
  CHECK(std::string(err).find("ai.escalate_min_score") != std::string::npos);
  CHECK(rc(R"({"ai": {"providers": [{"name": "a", "kind": "openai", "base_url": "http://127.0.0.1:1/v1", "model": "m"}, {"name": "a", "kind": "gemini", "base_url": "http://127.0.0.1:1/v1beta", "model": "m"}]}})") == GUARD_ECONFIG);
  CHECK(std::string(err).find("ai.providers[1].name: duplicate name") != std::string::npos);
  CHECK(rc(R"({"ai": {"providers": [{"name": "a", "kind": "openai", "base_url": "ftp://x", "model": "m"}]}})") == GUARD_ECONFIG);
  CHECK(rc(R"({"ai": {"providers": []}})") == GUARD_ECONFIG);
  CHECK(rc(R"({"ai": {"mode": "later", "providers": [{"name": "a", "kind": "openai", "base_url": "http://x/v1", "model": "m"}]}})") == GUARD_ECONFIG);
  CHECK(rc(R"({"ai": {"deadline_ms": 100, "poll_ms": 100, "providers": [{"name": "a", "kind": "openai", "base_url": "http://x/v1", "model": "m"}]}})") == GUARD_ECONFIG);
  CHECK(std::string(err).find("ai.poll_ms") != std::string::npos);
  REQUIRE(rc(R"({"ai": {"providers": [{"name": "a", "kind": "openai", "base_url": "http://x/v1", "model": "m", "breaker": {"failures": 2}}]}})") == GUARD_OK);
  guard_engine_free(e);
}
