// In-process cost of EventBusService::PutEvents (no HTTP, no SigV4, no JSON wire decoding):
// 10 entries per call against 1,000 rules on the default bus, over the in-memory store, to show
// how much of the end-to-end figure (events_load) the domain itself takes.
//
//   BM_PutEventsNoMatch    envelope + detail validation + matching; nothing to write
//   BM_PutEventsOneMatch   ... + one outbox row per event, one store write per call

#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "benchmark/benchmark.h"
#include "common/clock.h"
#include "common/status.h"
#include "events/bus/event_bus_service.h"
#include "outbox/store_outbox.h"
#include "storage/memory_store.h"
#include "storage/sqlite/sqlite_store.h"

namespace klaxon::events {
namespace {

constexpr char kAccount[] = "000000000000";

struct Fixture {
  storage::MemoryStore store;
  SimulatedClock clock;
  std::unique_ptr<outbox::StoreOutbox> outbox;
  std::unique_ptr<EventBusService> buses;

  explicit Fixture(int rules) {
    outbox::OutboxOptions o;
    o.delivery_threads = 0;
    outbox = std::make_unique<outbox::StoreOutbox>(store, clock, o);
    buses = std::make_unique<EventBusService>(store, clock, *outbox);
    Scope scope{kAccount, "us-east-1", "arn:aws:iam::000000000000:root"};
    (void)buses->CreateEventBus(scope, "sink", std::nullopt, std::nullopt, {});
    for (int i = 0; i < rules; ++i) {
      PutRuleRequest req;
      req.name = absl::StrFormat("bench-%04d", i);
      req.event_pattern = absl::StrFormat(
          R"({"source":["bench.app"],"detail-type":["Order Failed"],"detail":{"service":["svc-%04d"],"severity":[{"numeric":[">=",%d]}]%s}})",
          i, i % 3, i % 3 == 0 ? R"(,"env":[{"anything-but":["test"]}])" : "");
      (void)buses->PutRule(scope, req);
      Target t;
      t.id = "sink";
      t.arn = "arn:aws:events:us-east-1:000000000000:event-bus/sink";
      (void)buses->PutTargets(scope, "", req.name, {t});
    }
  }
};

std::vector<PutEventsEntry> Entries(bool match) {
  std::vector<PutEventsEntry> entries;
  for (int e = 0; e < 10; ++e) {
    PutEventsEntry entry;
    std::string service = match ? absl::StrFormat("svc-%04d", (e * 97) % 1000) : "svc-none";
    entry.source = "bench.app";
    entry.detail_type = "Order Failed";
    entry.resources = {"arn:aws:ecs:us-east-1:000000000000:service/" + service};
    entry.detail = absl::StrFormat(
        R"({"service":"%s","severity":2,"env":"prod","order":{"id":"o-12345","amount":99.5,"items":[1,2,3]}})",
        service);
    entries.push_back(std::move(entry));
  }
  return entries;
}

void BM_PutEventsNoMatch(benchmark::State& state) {
  static Fixture* f = new Fixture(1000);
  Scope scope{kAccount, "us-east-1", "arn:aws:iam::000000000000:root"};
  auto entries = Entries(false);
  for (auto _ : state) {
    auto r = f->buses->PutEvents(scope, entries);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations() * 10);
}
BENCHMARK(BM_PutEventsNoMatch);

void BM_PutEventsOneMatch(benchmark::State& state) {
  static Fixture* f = new Fixture(1000);
  Scope scope{kAccount, "us-east-1", "arn:aws:iam::000000000000:root"};
  auto entries = Entries(true);
  int64_t n = 0;
  for (auto _ : state) {
    auto r = f->buses->PutEvents(scope, entries);
    benchmark::DoNotOptimize(r);
    if (++n % 1000 == 0) {  // keep the queue small: drop what was enqueued
      state.PauseTiming();
      (void)f->store.Write([](storage::WriteTxn& txn) -> absl::Status {
        std::vector<std::string> keys;
        KLAXON_RETURN_IF_ERROR(txn.Scan(outbox::kQueueTable, outbox::kQueueAccount, "", "", 0,
                                        [&](std::string_view k, std::string_view) {
                                          keys.emplace_back(k);
                                          return true;
                                        }));
        for (const auto& k : keys) {
          KLAXON_RETURN_IF_ERROR(txn.Delete(outbox::kQueueTable, outbox::kQueueAccount, k));
        }
        return absl::OkStatus();
      });
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations() * 10);
}
BENCHMARK(BM_PutEventsOneMatch);

// The outbox draining a backlog of transactional entries (the shape of event-bus forwards) on
// SQLite with synchronous=FULL: entries delivered per second with `threads` workers.
void BM_OutboxDrainSqlite(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const int entries = 20000;
  for (auto _ : state) {
    state.PauseTiming();
    std::string dir = "/tmp/klaxon-outbox-bench-" + std::to_string(::getpid());
    std::filesystem::remove_all(dir);
    storage::SqliteOptions so;
    so.data_dir = dir;
    auto store = *storage::SqliteStore::Open(so);
    SystemClock& clock = SystemClock::Get();
    outbox::OutboxOptions o;
    o.delivery_threads = threads;
    outbox::StoreOutbox box(*store, clock, o);
    std::string payload(600, 'x');
    (void)box.RegisterTxnHandler("fwd", [](storage::WriteTxn& txn, const outbox::Entry& e) {
      return txn.Get("nothing", e.account_id, e.id).status();
    });
    for (int i = 0; i < entries; i += 100) {
      (void)store->Write([&](storage::WriteTxn& txn) -> absl::Status {
        for (int j = 0; j < 100; ++j) {
          KLAXON_RETURN_IF_ERROR(box.EnqueueInTxn(txn, kAccount, "fwd", payload).status());
        }
        return absl::OkStatus();
      });
    }
    state.ResumeTiming();
    (void)box.Start();
    while (true) {
      auto pending = box.Pending(1);
      if (pending.ok() && pending->empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    state.PauseTiming();
    box.Stop();
    store->Close();
    std::filesystem::remove_all(dir);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * entries);
}
BENCHMARK(BM_OutboxDrainSqlite)
    ->Arg(4)
    ->Arg(16)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);

}  // namespace
}  // namespace klaxon::events

BENCHMARK_MAIN();
