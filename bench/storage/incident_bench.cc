// IncidentService::Start on a durable SqliteStore, without HTTP: the domain + storage part of a
// StartIncident call, measured as CPU per call (process and writer thread), WAL pages per call
// and calls per second with N concurrent callers (each like one server worker).
//
//   build/release/bench/storage/incident_bench [--scenario new|dedup] [--threads 32]
//       [--seconds 5] [--sync full|normal|off] [--client-token] [--store sqlite|memory]
//       [--cache-kib N] [--mmap-bytes N] [--reopen]
//
// new: every call opens an incident (plan without dedupeString); dedup: every call hits the one
// open incident of a plan with a dedupeString. --client-token gives every call its own
// random clientToken (a UUID), as the AWS SDKs and CLI do (they generate one per call). --reopen (SQLite) then
// closes and reopens the store and times the first call with a clientToken, which builds the
// account's clientToken index from its log (ClientTokens). The data directory is under $TMPDIR
// (default /tmp).

#include <stdlib.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "incidents/incident_manager.h"
#include "opsitems/ops_item_service.h"
#include "storage/memory_store.h"
#include "storage/sqlite/sqlite_store.h"

namespace {

using namespace klaxon;  // NOLINT: a benchmark's main

struct Options {
  std::string scenario = "new";
  int threads = 32;
  double seconds = 5;
  std::string sync = "full";
  bool client_token = false;
  std::string store = "sqlite";
  int cache_kib = -1;       // SqliteOptions::writer_cache_kib (-1: the default)
  int64_t mmap_bytes = -1;  // SqliteOptions::mmap_bytes (-1: the default)
  bool reopen = false;
};

double ProcessCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

int Run(const Options& o) {
  const char* base = getenv("TMPDIR");
  std::string dir = std::string(base && *base ? base : "/tmp") + "/klaxon_incident_bench_XXXXXX";
  if (mkdtemp(dir.data()) == nullptr) return 1;
  std::unique_ptr<storage::Store> store;
  storage::SqliteStore* sqlite = nullptr;
  if (o.store == "memory") {
    store = std::make_unique<storage::MemoryStore>();
  } else {
    storage::SqliteOptions so;
    so.data_dir = dir;
    so.synchronous = o.sync == "off"      ? storage::SqliteSynchronous::kOff
                     : o.sync == "normal" ? storage::SqliteSynchronous::kNormal
                                          : storage::SqliteSynchronous::kFull;
    if (o.cache_kib >= 0) so.writer_cache_kib = o.cache_kib;
    if (o.mmap_bytes >= 0) so.mmap_bytes = o.mmap_bytes;
    auto opened = storage::SqliteStore::Open(so);
    if (!opened.ok()) {
      std::cerr << opened.status() << "\n";
      return 1;
    }
    sqlite = opened->get();
    store = std::move(*opened);
  }
  SystemClock clock;
  opsitems::OpsItemService ops(*store, clock);
  incidents::IncidentManager im(*store, clock, ops);
  const incidents::Scope scope{"000000000000", "us-east-1", "arn:aws:iam::000000000000:root"};

  incidents::CreateReplicationSetRequest rs;
  rs.regions["us-east-1"] = std::nullopt;
  if (auto s = im.replication_sets().Create(scope, rs); !s.ok()) {
    std::cerr << s.status() << "\n";
    return 1;
  }
  incidents::CreateResponsePlanRequest plan;
  plan.name = "bench";
  plan.incident_template.title = "bench";
  plan.incident_template.impact = 3;
  if (o.scenario == "dedup") plan.incident_template.dedupe_string = "bench-dedup";
  auto plan_arn = im.response_plans().Create(scope, plan);
  if (!plan_arn.ok()) {
    std::cerr << plan_arn.status() << "\n";
    return 1;
  }
  auto make_request = [&] {
    incidents::StartIncidentRequest r;
    r.response_plan_arn = *plan_arn;
    r.source.created_by = scope.caller_arn;
    r.source.invoked_by = scope.caller_arn;
    if (o.client_token) r.client_token = NewUuid();  // random, as the SDKs send
    return r;
  };
  if (auto first = im.incidents().Start(scope, make_request()); !first.ok()) {
    std::cerr << first.status() << "\n";
    return 1;
  }

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> ok{0}, errors{0};
  storage::SqliteStoreStats before;
  if (sqlite) before = sqlite->stats();
  const double cpu0 = ProcessCpuSeconds();
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(o.threads));
  for (int i = 0; i < o.threads; ++i) {
    threads.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        auto r = im.incidents().Start(scope, make_request());
        (r.ok() ? ok : errors).fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
  stop = true;
  for (auto& t : threads) t.join();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = ProcessCpuSeconds() - cpu0;
  const double n = static_cast<double>(ok.load());
  std::printf(
      "scenario=%s store=%s sync=%s threads=%d client_token=%d calls=%.0f errors=%llu "
      "rate=%.0f/s cpu_per_call=%.1fus",
      o.scenario.c_str(), o.store.c_str(), o.sync.c_str(), o.threads, o.client_token, n,
      static_cast<unsigned long long>(errors.load()), n / elapsed, cpu / n * 1e6);
  if (sqlite) {
    storage::SqliteStoreStats after = sqlite->stats();
    const double commits = static_cast<double>(after.commits - before.commits);
    std::printf(" writer_cpu_per_call=%.1fus wal_pages_per_call=%.2f mean_batch=%.1f",
                static_cast<double>(after.writer_cpu_ns - before.writer_cpu_ns) / n / 1e3,
                static_cast<double>(after.wal_frames - before.wal_frames) / n,
                static_cast<double>(after.writes - before.writes) / commits);
  }
  std::printf("\n");
  store->Close();
  if (o.reopen && sqlite) {
    storage::SqliteOptions so;
    so.data_dir = dir;
    auto reopened = storage::SqliteStore::Open(so);
    if (!reopened.ok()) {
      std::cerr << reopened.status() << "\n";
      return 1;
    }
    opsitems::OpsItemService ops2(**reopened, clock);
    incidents::IncidentManager im2(**reopened, clock, ops2);
    auto request = make_request();
    request.client_token = "bench-after-reopen";
    const auto r0 = std::chrono::steady_clock::now();
    auto first = im2.incidents().Start(scope, request);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - r0).count();
    if (!first.ok()) {
      std::cerr << first.status() << "\n";
      return 1;
    }
    std::printf("reopened: first call with a clientToken %.1f ms (index built from %.0f records)\n",
                ms, n + 1);
    (*reopened)->Close();
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return errors.load() == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (flag == "--scenario") {
      o.scenario = value();
    } else if (flag == "--threads") {
      o.threads = std::stoi(value());
    } else if (flag == "--seconds") {
      o.seconds = std::stod(value());
    } else if (flag == "--sync") {
      o.sync = value();
    } else if (flag == "--client-token") {
      o.client_token = true;
    } else if (flag == "--cache-kib") {
      o.cache_kib = std::stoi(value());
    } else if (flag == "--mmap-bytes") {
      o.mmap_bytes = std::stoll(value());
    } else if (flag == "--reopen") {
      o.reopen = true;
    } else if (flag == "--store") {
      o.store = value();
    } else {
      std::cerr << "incident_bench: unknown flag " << flag << "\n";
      return 2;
    }
  }
  return Run(o);
}
