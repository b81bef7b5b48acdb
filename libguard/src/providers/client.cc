// Client: the job table shared with the plugin's workers, and the I/O thread that owns everything else.
//
// Locking: `mu` guards only what workers touch (incoming jobs, cancels, results, lifecycle flags) and is
// held for a few map operations at a time; `metrics_mu` guards the counters. std::mutex rather than
// absl::Mutex throughout the module so that ThreadSanitizer sees the locks (Debian's Abseil is not
// instrumented, and every access under an absl::Mutex shows up as a race). Jobs, queues, transfers and
// the curl multi handle belong to the I/O thread alone, so the state machine below needs no locks.
#include "providers/client.h"
#include "providers/sv.h"

#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "providers/adapter.h"
#include "providers/queue.h"
#include "providers/selector.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace guard::providers {
namespace {

constexpr size_t kMaxResponseBytes = 1 << 20;  // a verdict is tiny; anything this big is not one
constexpr absl::Duration kMaxLoopSleep = absl::Milliseconds(100);
constexpr absl::Duration kMinAttemptTime = absl::Milliseconds(20);  // not worth a call below this

struct Transfer {
  uint64_t job_id = 0;
  size_t provider = 0;
  Reservation reservation;
  absl::Time started;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  HttpResponse response;
  ~Transfer() {
    if (headers) curl_slist_free_all(headers);
    if (easy) curl_easy_cleanup(easy);
  }
};

struct Job {
  uint64_t id = 0;
  Prompt prompt;
  double risk = 0;
  std::function<void(const AiVerdict&, const std::string&)> on_verdict;
  absl::Time submitted;
  absl::Time deadline;
  std::vector<size_t> tried;
  int attempts = 0;
  bool in_flight = false;
  bool cancelled = false;
  std::string last_error;
  std::string last_provider;
};

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * n;
  if (t->response.body.size() + len > kMaxResponseBytes) return 0;  // aborts with CURLE_WRITE_ERROR
  t->response.body.append(data, len);
  return len;
}

size_t WriteHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * n;
  std::string_view line(data, len);
  if (line.rfind("HTTP/", 0) == 0) {
    t->response.headers.clear();  // a new response (after 100-continue or a redirect) starts over
    return len;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return len;
  t->response.headers.emplace_back(absl::AsciiStrToLower(absl::StripAsciiWhitespace(AV(line.substr(0, colon)))),
                                   std::string(absl::StripAsciiWhitespace(AV(line.substr(colon + 1)))));
  return len;
}

}  // namespace

struct Client::Impl {
  AiConfig config;
  ClientOptions options;
  const Clock* clock;
  std::shared_ptr<QuotaStore> quota;
  std::unique_ptr<ProviderSelector> selector;

  struct Result {
    JobResult result;
    absl::Time deadline;
    absl::Time finished_at = absl::InfiniteFuture();
  };

  // Shared with the workers: everything from here to `thread` is guarded by `mu`.
  std::mutex mu;
  std::vector<std::unique_ptr<Job>> incoming;
  std::vector<uint64_t> cancels;
  std::unordered_map<uint64_t, Result> results;
  uint64_t next_id = 1;
  bool started = false;
  bool stopping = false;
  bool stopped = false;
  pid_t owner_pid = 0;
  std::thread thread;
  CURLM* multi = nullptr;  // created with the thread; curl_multi_wakeup is the only cross-thread call

  std::mutex metrics_mu;
  ClientMetrics metrics;  // guarded by metrics_mu

  // Owned by the I/O thread.
  std::unordered_map<uint64_t, std::unique_ptr<Job>> jobs;
  std::unordered_map<CURL*, std::unique_ptr<Transfer>> transfers;
  std::vector<ProviderQueue> queues;
  std::vector<int> in_flight;
  absl::Time last_gc = absl::InfinitePast();

  Impl(AiConfig c, ClientOptions o) : config(std::move(c)), options(std::move(o)), clock(options.clock) {
    quota = options.quota ? options.quota : std::make_shared<LocalQuotaStore>();
    selector = std::make_unique<ProviderSelector>(&config, quota.get(), clock);
    for (const ProviderConfig& p : config.providers) {
      queues.emplace_back(static_cast<size_t>(p.max_queue));
      in_flight.push_back(0);
      ProviderMetrics m;
      m.name = p.name;
      metrics.providers.push_back(m);
    }
  }

  absl::Status StartLocked();
  void Run();
  void Dispatch(uint64_t id);
  bool TryStart(Job& j, size_t c);
  void ProcessDone();
  void Complete(Transfer& t, CURLcode rc);
  void PumpQueue(size_t c);
  void Finish(uint64_t id, JobState state, std::string reason, AiVerdict verdict = {}, std::string provider = {});
  void ExpireQueued();
  void GcResults();
  std::string UnavailableReason();
  void PublishGauges();
};

// ---- lifecycle -------------------------------------------------------------------------------------------

absl::Status Client::Impl::StartLocked() {
  static std::once_flag curl_once;
  static CURLcode curl_init = CURLE_OK;
  std::call_once(curl_once, [] { curl_init = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (curl_init != CURLE_OK) return absl::InternalError("curl_global_init failed");
  multi = curl_multi_init();
  if (!multi) return absl::ResourceExhaustedError("curl_multi_init failed");
  long per_host = 1;
  for (const ProviderConfig& p : config.providers) per_host = std::max<long>(per_host, p.max_concurrency);
  curl_multi_setopt(multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
  curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, per_host);
  curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, static_cast<long>(config.max_total_connections));
  curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, static_cast<long>(config.max_total_connections));

  // The thread inherits the creator's signal mask: block everything around its creation so that no signal
  // can ever be delivered to it, not even in the instant before it could block them itself.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  try {
    thread = std::thread([this] { Run(); });
  } catch (const std::system_error& e) {
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    curl_multi_cleanup(multi);
    multi = nullptr;
    return absl::ResourceExhaustedError(absl::StrCat("cannot start the AI client thread: ", e.what()));
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  started = true;
  owner_pid = getpid();
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Client>> Client::Create(AiConfig config, ClientOptions options) {
  if (config.providers.empty()) return absl::InvalidArgumentError("ai.providers: expected a non-empty array");
  if (!options.clock) options.clock = RealClock::Get();
  return std::unique_ptr<Client>(new Client(std::make_unique<Impl>(std::move(config), std::move(options))));
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() { Shutdown(); }
const AiConfig& Client::config() const { return impl_->config; }

void Client::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->stopped) return;
    impl_->stopped = true;
    impl_->stopping = true;
    if (!impl_->started) return;
    curl_multi_wakeup(impl_->multi);
  }
  if (impl_->thread.joinable()) impl_->thread.join();
  curl_multi_cleanup(impl_->multi);
  impl_->multi = nullptr;
}

// ---- worker-side API -------------------------------------------------------------------------------------

absl::StatusOr<uint64_t> Client::Submit(AiJob job) {
  Impl& s = *impl_;
  // Build the prompt here, on the worker: it is CPU-only, and it means the raw request (with its secrets)
  // is dropped before the job crosses to the I/O thread.
  auto j = std::make_unique<Job>();
  j->prompt = BuildPrompt(job.request, s.config.prompt);
  j->risk = job.risk;
  j->on_verdict = std::move(job.on_verdict);
  j->submitted = s.clock->Now();
  j->deadline = j->submitted + job.deadline;
  uint64_t id;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (s.stopped) return absl::FailedPreconditionError("AI client is shut down");
    if (s.started && s.owner_pid != getpid()) {
      return absl::FailedPreconditionError("AI client was started in another process (create it after fork)");
    }
    if (s.results.size() >= s.options.max_outstanding_jobs) {
      return absl::ResourceExhaustedError("too many outstanding AI jobs");
    }
    if (!s.started) {
      if (absl::Status st = s.StartLocked(); !st.ok()) return st;
    }
    id = s.next_id++;
    j->id = id;
    Impl::Result r;
    r.result.state = JobState::kPending;
    r.deadline = j->deadline;
    s.results.emplace(id, std::move(r));
    s.incoming.push_back(std::move(j));
    // Under the lock, so that Shutdown (which sets `stopped` under it first) cannot free the handle in
    // between; the wake-up is one non-blocking write to curl's socketpair.
    curl_multi_wakeup(s.multi);
  }
  {
    std::lock_guard<std::mutex> lock(s.metrics_mu);
    ++s.metrics.submitted;
  }
  return id;
}

JobResult Client::Poll(uint64_t id) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto it = impl_->results.find(id);
  if (it == impl_->results.end()) {
    JobResult r;
    r.state = JobState::kUnknown;
    r.reason = "unknown job (never submitted, already read, cancelled or expired)";
    return r;
  }
  JobResult r = it->second.result;
  if (r.state != JobState::kPending) impl_->results.erase(it);
  return r;
}

void Client::Cancel(uint64_t id) {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->results.erase(id) == 0 || !impl_->started || impl_->stopped) return;
    impl_->cancels.push_back(id);
    curl_multi_wakeup(impl_->multi);
  }
}

void Client::RecordFeedback(std::string_view provider, bool agreed) {
  for (size_t i = 0; i < impl_->config.providers.size(); ++i) {
    if (impl_->config.providers[i].name == provider) impl_->selector->RecordFeedback(i, agreed);
  }
}

ClientMetrics Client::Metrics() {
  ClientMetrics m;
  {
    std::lock_guard<std::mutex> lock(impl_->metrics_mu);
    m = impl_->metrics;
  }
  for (size_t i = 0; i < m.providers.size(); ++i) {
    m.providers[i].breaker = impl_->selector->breaker_state(i);
    const ProviderStats st = impl_->selector->stats(i);
    m.providers[i].ewma_latency_ms = st.ewma_latency_ms;
    m.providers[i].feedback_total = st.feedback_total;
    m.providers[i].feedback_agree = st.feedback_agree;
    m.providers[i].headroom = impl_->selector->Headroom(i);
  }
  return m;
}

std::string MetricsJson(const ClientMetrics& m) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("submitted"); w.Int64(m.submitted);
  w.Key("done"); w.Int64(m.done);
  w.Key("failed"); w.Int64(m.failed);
  w.Key("shed"); w.Int64(m.shed);
  w.Key("expired"); w.Int64(m.expired);
  w.Key("providers");
  w.StartObject();
  for (const ProviderMetrics& p : m.providers) {
    w.Key(p.name.data(), static_cast<rapidjson::SizeType>(p.name.size()));
    w.StartObject();
    w.Key("calls"); w.Int64(p.calls);
    w.Key("successes"); w.Int64(p.successes);
    w.Key("failures"); w.Int64(p.failures);
    w.Key("invalid_answers"); w.Int64(p.invalid_answers);
    w.Key("rate_limited"); w.Int64(p.rate_limited);
    w.Key("input_tokens"); w.Int64(p.input_tokens);
    w.Key("output_tokens"); w.Int64(p.output_tokens);
    w.Key("cost_usd"); w.Double(p.cost_usd);
    w.Key("latency_ewma_ms"); w.Double(p.ewma_latency_ms);
    w.Key("in_flight"); w.Int(p.in_flight);
    w.Key("queued"); w.Int(p.queued);
    w.Key("headroom"); w.Double(p.headroom);
    std::string_view b = BreakerStateName(p.breaker);
    w.Key("breaker"); w.String(b.data(), static_cast<rapidjson::SizeType>(b.size()));
    w.Key("feedback_total"); w.Int64(p.feedback_total);
    w.Key("feedback_agree"); w.Int64(p.feedback_agree);
    w.EndObject();
  }
  w.EndObject();
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

// ---- the I/O thread --------------------------------------------------------------------------------------

void Client::Impl::Run() {
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, nullptr);  // already inherited; stated again for the reader
  while (true) {
    std::vector<std::unique_ptr<Job>> in;
    std::vector<uint64_t> cancelled;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (stopping) break;
      in.swap(incoming);
      cancelled.swap(cancels);
    }
    for (uint64_t id : cancelled) {
      for (ProviderQueue& q : queues) q.Remove(id);
      auto it = jobs.find(id);
      if (it == jobs.end()) continue;
      if (it->second->in_flight) {
        it->second->cancelled = true;  // the call completes; its answer is dropped
      } else {
        jobs.erase(it);
      }
    }
    for (std::unique_ptr<Job>& j : in) {
      uint64_t id = j->id;
      jobs.emplace(id, std::move(j));
      Dispatch(id);
    }
    int running = 0;
    curl_multi_perform(multi, &running);
    ProcessDone();
    ExpireQueued();
    GcResults();
    PublishGauges();

    absl::Time now = clock->Now();
    absl::Time wake = now + kMaxLoopSleep;
    for (const ProviderQueue& q : queues) wake = std::min(wake, q.NextDeadline());
    int timeout_ms = static_cast<int>(std::clamp<int64_t>(absl::ToInt64Milliseconds(wake - now), 1, 100));
    curl_multi_poll(multi, nullptr, 0, timeout_ms, nullptr);
  }
  // Shutdown: abort transfers, fail everything still pending.
  for (auto& [easy, t] : transfers) curl_multi_remove_handle(multi, easy);
  transfers.clear();
  std::lock_guard<std::mutex> lock(mu);
  for (auto& [id, r] : results) {
    if (r.result.state == JobState::kPending) {
      r.result.state = JobState::kFailed;
      r.result.reason = "shutdown";
    }
  }
  incoming.clear();
  jobs.clear();
}

std::string Client::Impl::UnavailableReason() {
  absl::Time now = clock->Now();
  if (config.budget_usd_per_day > 0) {
    QuotaSnapshot s = quota->Snapshot(config.providers[0].name, config.providers[0].limits,
                                      config.budget_usd_per_day, now);
    if (s.global_usd_day >= config.budget_usd_per_day) {
      return "budget_usd_per_day: the daily AI budget is spent";
    }
  }
  std::vector<std::string> parts;
  for (size_t i = 0; i < config.providers.size(); ++i) {
    BreakerState b = selector->breaker_state(i);
    if (b != BreakerState::kClosed) {
      parts.push_back(absl::StrCat(config.providers[i].name, ": breaker ", AV(BreakerStateName(b))));
    } else if (selector->Headroom(i) <= 0) {
      parts.push_back(absl::StrCat(config.providers[i].name, ": quota exhausted"));
    }
  }
  return absl::StrCat("no provider available (", absl::StrJoin(parts, "; "), ")");
}

void Client::Impl::Dispatch(uint64_t id) {
  auto it = jobs.find(id);
  if (it == jobs.end()) return;
  Job& j = *it->second;
  if (j.cancelled) {
    jobs.erase(it);
    return;
  }
  absl::Time now = clock->Now();
  if (now + kMinAttemptTime > j.deadline) {
    return Finish(id, JobState::kFailed,
                  j.last_error.empty() ? "deadline" : absl::StrCat("deadline (last error: ", j.last_error, ")"));
  }
  if (j.attempts >= config.max_attempts) {
    return Finish(id, JobState::kFailed, absl::StrCat("max_attempts reached; last error: ", j.last_error));
  }
  std::vector<size_t> candidates = selector->Rank(j.tried);
  if (candidates.empty()) {
    std::string why = UnavailableReason();
    if (!j.last_error.empty()) absl::StrAppend(&why, "; last error: ", j.last_error);
    return Finish(id, JobState::kFailed, why);
  }
  std::optional<size_t> queue_on;
  for (size_t c : candidates) {
    if (in_flight[c] >= config.providers[c].max_concurrency) {
      if (!queue_on && config.providers[c].max_queue > 0) queue_on = c;
      continue;
    }
    if (TryStart(j, c)) return;
  }
  if (queue_on) {
    std::optional<uint64_t> shed = queues[*queue_on].Push(QueuedJob{id, j.risk, j.deadline});
    if (shed) {
      {
        std::lock_guard<std::mutex> lock(metrics_mu);
        ++metrics.shed;
      }
      Finish(*shed, JobState::kFailed, "shed: provider queue full (lowest risk first)");
    }
    return;
  }
  Finish(id, JobState::kFailed, j.last_error.empty() ? UnavailableReason() : j.last_error);
}

bool Client::Impl::TryStart(Job& j, size_t c) {
  const ProviderConfig& p = config.providers[c];
  if (!selector->AcquireBreaker(c)) return false;
  absl::StatusOr<Reservation> res = selector->Reserve(c, j.prompt.estimated_input_tokens);
  if (!res.ok()) {
    selector->OnAbandon(c);
    j.last_error = std::string(res.status().message());
    std::lock_guard<std::mutex> lock(metrics_mu);
    ++metrics.providers[c].rate_limited;
    return false;
  }
  auto t = std::make_unique<Transfer>();
  t->job_id = j.id;
  t->provider = c;
  t->reservation = *res;
  t->started = clock->Now();
  t->easy = curl_easy_init();
  if (!t->easy) {
    selector->OnAbandon(c);
    quota->Reconcile(*res, Usage{});
    j.last_error = "curl_easy_init failed";
    return false;
  }
  HttpRequest req = BuildRequest(p, j.prompt);
  for (const std::string& h : req.headers) t->headers = curl_slist_append(t->headers, h.c_str());
  t->headers = curl_slist_append(t->headers, "Expect:");  // no 100-continue round trip for larger prompts
  absl::Duration budget = std::min(p.timeout, j.deadline - t->started);
  long timeout_ms = std::max<long>(1, static_cast<long>(absl::ToInt64Milliseconds(budget)));
  CURL* e = t->easy;
  curl_easy_setopt(e, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
  curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, req.body.data());
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, WriteHeader);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
  curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, std::min<long>(timeout_ms, 2000));
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM-based DNS timeouts on a signal-blocked thread
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
  curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);  // prefer multiplexing on an existing HTTP/2 connection
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  if (curl_multi_add_handle(multi, e) != CURLM_OK) {
    selector->OnAbandon(c);
    quota->Reconcile(*res, Usage{});
    j.last_error = "curl_multi_add_handle failed";
    return false;
  }
  transfers.emplace(e, std::move(t));
  ++in_flight[c];
  j.tried.push_back(c);
  ++j.attempts;
  j.in_flight = true;
  j.last_provider = p.name;
  std::lock_guard<std::mutex> lock(metrics_mu);
  ++metrics.providers[c].calls;
  return true;
}

void Client::Impl::ProcessDone() {
  int left = 0;
  while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
    if (m->msg != CURLMSG_DONE) continue;
    CURL* e = m->easy_handle;
    CURLcode rc = m->data.result;
    curl_multi_remove_handle(multi, e);
    auto it = transfers.find(e);
    if (it == transfers.end()) continue;
    std::unique_ptr<Transfer> t = std::move(it->second);
    transfers.erase(it);
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    t->response.status = status;
    Complete(*t, rc);
  }
}

void Client::Impl::Complete(Transfer& t, CURLcode rc) {
  const size_t c = t.provider;
  const ProviderConfig& p = config.providers[c];
  absl::Time now = clock->Now();
  absl::Duration latency = now - t.started;
  --in_flight[c];

  enum class Outcome { kOk, kFailure, kRateLimited } outcome = Outcome::kOk;
  std::string reason;
  bool invalid_answer = false;
  AiVerdict verdict;
  Usage actual{1, 0, 0};  // a failed call is billed nothing, but it did spend a request
  int64_t tokens_in = 0, tokens_out = 0;
  if (rc != CURLE_OK) {
    outcome = Outcome::kFailure;
    reason = absl::StrCat(p.name, ": ", rc == CURLE_OPERATION_TIMEDOUT ? "timeout: " : "", curl_easy_strerror(rc));
  } else {
    RateLimitInfo info = ParseRateLimitHeaders(t.response.headers, now);
    if (t.response.status == 429 && !info.retry_at) {
      // No retry-after: back off until the provider's reset, or a second when it gave none.
      info.retry_at = info.requests_reset_at.value_or(now + absl::Seconds(1));
    }
    if (!info.empty()) quota->Observe(p.name, info, now);
    absl::StatusOr<Completion> completion = ParseResponse(p.kind, t.response);
    if (!completion.ok()) {
      outcome = t.response.status == 429 ? Outcome::kRateLimited : Outcome::kFailure;
      reason = absl::StrCat(p.name, ": ", completion.status().message());
    } else {
      int64_t in = completion->input_tokens > 0 ? completion->input_tokens : t.reservation.reserved.tokens;
      int64_t out = completion->output_tokens;
      actual = Usage{1, in + out, CostUsd(in, out, p.usd_per_1m_input, p.usd_per_1m_output)};
      tokens_in = in;
      tokens_out = out;
      absl::StatusOr<AiVerdict> v = ParseVerdict(completion->text);
      if (!v.ok()) {
        outcome = Outcome::kFailure;
        invalid_answer = true;
        reason = absl::StrCat(p.name, ": ", v.status().message());
      } else {
        verdict = std::move(*v);
      }
    }
  }
  quota->Reconcile(t.reservation, actual);
  switch (outcome) {
    case Outcome::kOk: selector->OnSuccess(c, latency); break;
    case Outcome::kFailure:
      selector->OnFailure(c);
      // Tell the other nodes (shared quota store) so that they skip the provider for the cooldown as well.
      if (selector->breaker_state(c) == BreakerState::kOpen) quota->OnBreakerOpen(p.name, now + p.breaker.cooldown);
      break;
    case Outcome::kRateLimited: selector->OnAbandon(c); break;
  }
  {
    std::lock_guard<std::mutex> lock(metrics_mu);
    ProviderMetrics& m = metrics.providers[c];
    m.input_tokens += tokens_in;
    m.output_tokens += tokens_out;
    m.cost_usd += actual.usd;
    if (outcome == Outcome::kOk) ++m.successes;
    if (outcome == Outcome::kFailure) ++m.failures;
    if (outcome == Outcome::kRateLimited) ++m.rate_limited;
    if (invalid_answer) ++m.invalid_answers;
  }

  auto it = jobs.find(t.job_id);
  if (it != jobs.end()) {
    Job& j = *it->second;
    j.in_flight = false;
    if (outcome == Outcome::kOk && j.on_verdict) j.on_verdict(verdict, p.name);
    if (j.cancelled) {
      jobs.erase(it);
    } else if (outcome == Outcome::kOk) {
      Finish(t.job_id, JobState::kDone, "", std::move(verdict), p.name);
    } else {
      j.last_error = reason;
      Dispatch(t.job_id);  // failover within the job's deadline
    }
  }
  PumpQueue(c);
}

void Client::Impl::PumpQueue(size_t c) {
  while (in_flight[c] < config.providers[c].max_concurrency && queues[c].size() > 0) {
    std::vector<uint64_t> expired;
    std::optional<QueuedJob> next = queues[c].Pop(clock->Now(), &expired);
    for (uint64_t id : expired) Finish(id, JobState::kFailed, "deadline (queued)");
    if (!next) break;
    auto it = jobs.find(next->id);
    if (it == jobs.end()) continue;
    if (!TryStart(*it->second, c)) Dispatch(next->id);
  }
}

void Client::Impl::ExpireQueued() {
  absl::Time now = clock->Now();
  for (ProviderQueue& q : queues) {
    for (uint64_t id : q.DropExpired(now)) Finish(id, JobState::kFailed, "deadline (queued)");
  }
}

void Client::Impl::Finish(uint64_t id, JobState state, std::string reason, AiVerdict verdict,
                          std::string provider) {
  auto it = jobs.find(id);
  if (it == jobs.end()) return;
  Job& j = *it->second;
  absl::Time now = clock->Now();
  {
    std::lock_guard<std::mutex> lock(metrics_mu);
    if (state == JobState::kDone) ++metrics.done;
    if (state == JobState::kFailed) ++metrics.failed;
    if (state == JobState::kFailed && reason.rfind("deadline", 0) == 0) ++metrics.expired;
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    auto r = results.find(id);
    if (r != results.end()) {  // absent when the plugin cancelled
      r->second.result.state = state;
      r->second.result.verdict = std::move(verdict);
      r->second.result.provider = provider.empty() ? j.last_provider : std::move(provider);
      r->second.result.reason = std::move(reason);
      r->second.result.attempts = j.attempts;
      r->second.result.latency = now - j.submitted;
      r->second.finished_at = now;
    }
  }
  jobs.erase(it);
}

void Client::Impl::GcResults() {
  absl::Time now = clock->Now();
  if (now - last_gc < absl::Seconds(1)) return;
  last_gc = now;
  std::lock_guard<std::mutex> lock(mu);
  for (auto it = results.begin(); it != results.end();) {
    if (it->second.finished_at + options.result_ttl < now) {
      it = results.erase(it);
    } else {
      ++it;
    }
  }
}

void Client::Impl::PublishGauges() {
  std::lock_guard<std::mutex> lock(metrics_mu);
  for (size_t i = 0; i < queues.size(); ++i) {
    metrics.providers[i].in_flight = in_flight[i];
    metrics.providers[i].queued = static_cast<int>(queues[i].size());
  }
}

}  // namespace guard::providers
