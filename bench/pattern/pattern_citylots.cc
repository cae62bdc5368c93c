// pattern_citylots: events/s of the compiled RuleSet on the CityLots events, per rule type of
// ../shared/bench/citylots-rules.json, one thread; plus a simdjson On Demand baseline that reads
// the same fields without matching. See ../shared/bench/README.md for the method and self-checks.
//
//   pattern_citylots [EVENTS.json.gz] [RULES.json] [PASSES]
//   env: KLAXON_CITYLOTS (events), KLAXON_CITYLOTS_RULES (rules), KLAXON_BENCH_PASSES,
//        KLAXON_BENCH_TYPES (comma-separated rule types to run; default all; self-checks whose
//        types did not run are skipped), KLAXON_BENCH_EVENTS (use only the first N events),
//        KLAXON_BENCH_BASELINE=0 (skip the simdjson baseline)

#include <malloc.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "events/pattern/pattern.h"
#include "events/pattern/rule_set.h"
#include "simdjson.h"

namespace ep = klaxon::events::pattern;

namespace {

// Thread CPU time: the 2-core machines are shared, so wall time would measure the neighbours.
struct Clock {
  using time_point = double;
  static double now() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
  }
};

double Seconds(double a, double b) { return b - a; }

double WallNow() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// The 1/5/15-minute load averages, as uptime prints them.
std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

// Bytes in use from malloc: small blocks (uordblks) and mmap-ed large blocks (hblkhd).
size_t HeapBytes() {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

std::vector<std::string> LoadEvents(const std::string& path) {
  std::vector<std::string> events;
  std::string cmd = "zcat -f '" + path + "'";
  FILE* f = popen(cmd.c_str(), "r");
  if (!f) return events;
  char* line = nullptr;
  size_t cap = 0;
  ssize_t n;
  while ((n = getline(&line, &cap, f)) > 0) {
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) --n;
    if (n > 0) events.emplace_back(line, n);
  }
  free(line);
  pclose(f);
  return events;
}

// The rules file has one pattern per line under `"TYPE": [` headers.
std::vector<std::pair<std::string, std::vector<std::string>>> LoadRules(const std::string& path) {
  std::vector<std::pair<std::string, std::vector<std::string>>> types;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    size_t a = line.find_first_not_of(' ');
    if (a == std::string::npos) continue;
    if (line[a] == '"' && line.find("\": [") != std::string::npos && a == 2) {
      types.emplace_back(line.substr(a + 1, line.find('"', a + 1) - a - 1),
                         std::vector<std::string>());
    } else if (line[a] == '{' && !types.empty() && a >= 3) {
      std::string p = line.substr(a);
      while (!p.empty() && (p.back() == ',' || p.back() == ' ')) p.pop_back();
      types.back().second.push_back(p);
    }
  }
  return types;
}

struct Result {
  double mean = 0, min = 0, max = 0;  // events per second of thread CPU time
  double wall = 0;                    // events per second of wall-clock time (mean)
  std::vector<uint64_t> counts;
  double add_seconds = 0;
  size_t bytes = 0;          // the published RuleSet alone
  size_t builder_bytes = 0;  // the RuleSet and its RuleSetBuilder (what a bus keeps)
  double update_us = 0;      // one Add or Remove + Build on the full set
  size_t patterns = 0;
};

Result Run(const std::vector<std::string>& patterns, const std::vector<std::string>& events,
           int passes) {
  Result r;
  size_t heap0 = HeapBytes();
  auto t0 = Clock::now();
  std::shared_ptr<const ep::RuleSet> set;
  {
    ep::RuleSetBuilder builder;
    for (size_t i = 0; i < patterns.size(); ++i) {
      auto p = ep::ParsePattern(patterns[i], ep::LibraryParseOptions());
      if (!p.ok()) {
        std::fprintf(stderr, "rule %zu rejected: %s\n", i,
                     std::string(p.status().message()).c_str());
        continue;
      }
      if (!builder.Add(i, *p).ok()) std::abort();
    }
    set = builder.Build();
    r.add_seconds = Seconds(t0, Clock::now());
    size_t with_builder = HeapBytes();
    r.builder_bytes = with_builder > heap0 ? with_builder - heap0 : 0;
    // A PutRule / DeleteRule on the full set: add one rule and publish, remove it and publish,
    // while the first snapshot stays in use (so copy-on-write really copies).
    auto p = ep::ParsePattern(patterns[0], ep::LibraryParseOptions());
    if (p.ok()) {
      constexpr int kOps = 50;
      std::shared_ptr<const ep::RuleSet> latest;
      auto u0 = Clock::now();
      for (int k = 0; k < kOps; ++k) {
        if (!builder.Add(patterns.size() + k, *p).ok()) std::abort();
        latest = builder.Build();
        builder.Remove(patterns.size() + k);
        latest = builder.Build();
      }
      r.update_us = Seconds(u0, Clock::now()) / (2 * kOps) * 1e6;
    }
  }
  size_t heap1 = HeapBytes();
  r.bytes = heap1 > heap0 ? heap1 - heap0 : 0;
  r.patterns = set->pattern_count();
  r.counts.assign(patterns.size(), 0);
  std::vector<ep::RuleId> out;
  std::vector<double> rates;
  double wall_seconds = 0;
  for (int pass = -1; pass < passes; ++pass) {  // pass -1 is the warm-up
    auto a = Clock::now();
    const double w = WallNow();
    for (const std::string& e : events) {
      if (!set->MatchInto(e, &out).ok()) std::abort();
      if (pass == 0) {
        for (ep::RuleId id : out) ++r.counts[id];
      }
    }
    double s = Seconds(a, Clock::now());
    if (pass >= 0) {
      rates.push_back(events.size() / s);
      wall_seconds += WallNow() - w;
    }
  }
  r.wall = events.size() * rates.size() / wall_seconds;
  r.min = *std::min_element(rates.begin(), rates.end());
  r.max = *std::max_element(rates.begin(), rates.end());
  for (double x : rates) r.mean += x / rates.size();
  return r;
}

// Baseline: simdjson On Demand reading the fields the rules use (all properties, geometry.type,
// firstCoordinates, and with `coordinates` every point), without matching.
double Baseline(const std::vector<std::string>& events, bool coordinates, int passes) {
  namespace od = simdjson::ondemand;
  od::parser parser;
  std::string buf;
  size_t sink = 0;
  std::vector<double> rates;
  for (int pass = -1; pass < passes; ++pass) {
    auto a = Clock::now();
    for (const std::string& e : events) {
      buf.assign(e);
      buf.resize(e.size() + simdjson::SIMDJSON_PADDING, '\0');
      od::document doc;
      if (parser.iterate(buf.data(), e.size(), buf.size()).get(doc)) std::abort();
      od::object root;
      if (doc.get_object().get(root)) std::abort();
      for (auto field : root) {
        std::string_view key;
        if (field.unescaped_key().get(key)) std::abort();
        if (key == "properties") {
          od::object props;
          if (field.value().get_object().get(props)) std::abort();
          for (auto pf : props) {
            od::value v = pf.value();
            std::string_view s;
            if (!v.get_string().get(s)) sink += s.size();
          }
        } else if (key == "geometry") {
          od::object geo;
          if (field.value().get_object().get(geo)) std::abort();
          for (auto gf : geo) {
            std::string_view gk;
            if (gf.unescaped_key().get(gk)) std::abort();
            if (gk == "type") {
              std::string_view s;
              if (!gf.value().get_string().get(s)) sink += s.size();
            } else if (gk == "firstCoordinates") {
              od::object fc;
              if (gf.value().get_object().get(fc)) std::abort();
              for (auto c : fc) {
                std::string_view t;
                if (!c.value().raw_json_token().get(t)) sink += t.size();
              }
            } else if (gk == "coordinates" && coordinates) {
              // rings -> points -> {x,y,z}; MultiPolygon has one more level.
              od::array arr;
              if (gf.value().get_array().get(arr)) std::abort();
              for (auto ring : arr) {
                od::array pts;
                if (ring.get_array().get(pts)) continue;
                for (auto pt : pts) {
                  od::object o;
                  if (pt.get_object().get(o)) continue;
                  for (auto c : o) {
                    std::string_view t;
                    if (!c.value().raw_json_token().get(t)) sink += t.size();
                  }
                }
              }
            }
          }
        }
      }
    }
    double s = Seconds(a, Clock::now());
    if (pass >= 0) rates.push_back(events.size() / s);
  }
  if (sink == 42) std::puts("");
  double mean = 0;
  for (double x : rates) mean += x / rates.size();
  return mean;
}

// Lower bound of any matcher built on simdjson: copy each event into a padded buffer and run
// stage 1 (the structural index of every token), reading nothing.
double Stage1Only(const std::vector<std::string>& events, int passes) {
  std::unique_ptr<simdjson::internal::dom_parser_implementation> impl;
  if (simdjson::get_active_implementation()->create_dom_parser_implementation(
          1 << 20, simdjson::DEFAULT_MAX_DEPTH, impl)) {
    std::abort();
  }
  std::string buf;
  size_t sink = 0;
  std::vector<double> rates;
  for (int pass = -1; pass < passes; ++pass) {
    auto a = Clock::now();
    for (const std::string& e : events) {
      buf.assign(e);
      buf.resize(e.size() + simdjson::SIMDJSON_PADDING, '\0');
      if (impl->stage1(reinterpret_cast<const uint8_t*>(buf.data()), e.size(),
                       simdjson::stage1_mode::regular)) {
        std::abort();
      }
      sink += impl->n_structural_indexes;
    }
    double s = Seconds(a, Clock::now());
    if (pass >= 0) rates.push_back(events.size() / s);
  }
  if (sink == 42) std::puts("");
  double mean = 0;
  for (double x : rates) mean += x / rates.size();
  return mean;
}

}  // namespace

int main(int argc, char** argv) {
  const char* src = std::getenv("KLAXON_SOURCE_DIR");
  std::string root = src ? src : ".";
  std::string events_path = argc > 1 ? argv[1]
                            : std::getenv("KLAXON_CITYLOTS")
                                ? std::getenv("KLAXON_CITYLOTS")
                                : root + "/build/citylots/citylots2.json.gz";
  std::string rules_path = argc > 2 ? argv[2]
                           : std::getenv("KLAXON_CITYLOTS_RULES")
                               ? std::getenv("KLAXON_CITYLOTS_RULES")
                               : root + "/../shared/bench/citylots-rules.json";
  int passes = argc > 3                             ? std::atoi(argv[3])
               : std::getenv("KLAXON_BENCH_PASSES") ? std::atoi(std::getenv("KLAXON_BENCH_PASSES"))
                                                    : 3;
  auto events = LoadEvents(events_path);
  auto types = LoadRules(rules_path);
  if (const char* n = std::getenv("KLAXON_BENCH_EVENTS"); n && std::atol(n) > 0) {
    events.resize(std::min<size_t>(events.size(), std::atol(n)));
  }
  if (const char* only = std::getenv("KLAXON_BENCH_TYPES"); only && *only) {
    std::string list = std::string(",") + only + ",";
    std::erase_if(
        types, [&](const auto& t) { return list.find("," + t.first + ",") == std::string::npos; });
  }
  if (events.empty() || types.empty()) {
    std::fprintf(stderr, "no events (%s) or rules (%s)\n", events_path.c_str(), rules_path.c_str());
    return 1;
  }
  std::printf(
      "events: %zu from %s; passes: %d (+1 warm-up); one thread; events/s of thread CPU time "
      "(mean/min/max over passes), and of wall-clock time (mean); load average %s\n",
      events.size(), events_path.c_str(), passes, LoadAverage().c_str());
  const char* no_baseline = std::getenv("KLAXON_BENCH_BASELINE");
  if (!(no_baseline && std::string(no_baseline) == "0")) {
    std::printf(
        "baseline simdjson On Demand, same fields, no matching: %.0f ev/s; with every "
        "coordinate: %.0f ev/s\n",
        Baseline(events, false, passes), Baseline(events, true, passes));
    std::printf(
        "baseline simdjson stage 1 only (padded copy + token index, nothing read): %.0f "
        "ev/s; stage 1 kernel: %s\n",
        Stage1Only(events, passes), simdjson::get_active_implementation()->name().c_str());
  }
  std::map<std::string, Result> results;
  for (const auto& [type, patterns] : types) {
    Result r = Run(patterns, events, passes);
    std::printf("%-26s rules %6zu  events/s mean %9.0f min %9.0f max %9.0f wall %9.0f",
                type.c_str(), patterns.size(), r.mean, r.min, r.max, r.wall);
    if (type.rfind("SCALE", 0) == 0) {
      size_t matched = 0;
      uint64_t total = 0;
      for (uint64_t c : r.counts) {
        matched += c > 0;
        total += c;
      }
      std::printf(
          "  add %.3f s  memory %.1f MB (with builder %.1f MB)  update %.0f us  patterns %zu  "
          "rules matching %zu  matches %llu\n",
          r.add_seconds, r.bytes / 1e6, r.builder_bytes / 1e6, r.update_us, r.patterns, matched,
          static_cast<unsigned long long>(total));
    } else {
      std::printf("  counts");
      for (uint64_t c : r.counts) std::printf(" %llu", static_cast<unsigned long long>(c));
      std::printf("\n");
    }
    results[type] = std::move(r);
  }
  std::printf("load average at the end: %s\n", LoadAverage().c_str());
  // Self-checks from ../shared/bench/README.md.
  int failed = 0;
  auto ran = [&](std::initializer_list<const char*> names) {
    for (const char* n : names) {
      if (!results.count(n)) return false;
    }
    return true;
  };
  auto check = [&](bool ok, const std::string& what) {
    std::printf("self-check %-60s %s\n", what.c_str(), ok ? "PASS" : "FAIL");
    failed += !ok;
  };
  if (ran({"EXACT"})) check(results["EXACT"].counts[0] == 1, "EXACT rule 0 matches one event");
  if (ran({"NUMERIC"})) {
    check(results["NUMERIC"].counts[4] == 1, "NUMERIC rule 4 matches one event");
  }
  if (ran({"COMPLEX_ARRAYS"})) {
    check(results["COMPLEX_ARRAYS"].counts[4] == 1, "COMPLEX_ARRAYS rule 4 matches one event");
  }
  if (ran({"PREFIX", "PREFIX_EQUALS_IGNORE_CASE"})) {
    check(results["PREFIX"].counts == results["PREFIX_EQUALS_IGNORE_CASE"].counts,
          "PREFIX_EQUALS_IGNORE_CASE counts == PREFIX");
  }
  if (ran({"SUFFIX", "SUFFIX_EQUALS_IGNORE_CASE"})) {
    check(results["SUFFIX"].counts == results["SUFFIX_EQUALS_IGNORE_CASE"].counts,
          "SUFFIX_EQUALS_IGNORE_CASE counts == SUFFIX");
  }
  auto prefix_equal = [&](const std::string& a, const std::string& b) {
    const auto& x = results[a].counts;
    const auto& y = results[b].counts;
    return x.size() <= y.size() && std::equal(x.begin(), x.end(), y.begin());
  };
  if (ran({"SCALE_EXACT_10", "SCALE_EXACT_1000", "SCALE_EXACT_100000"})) {
    check(prefix_equal("SCALE_EXACT_10", "SCALE_EXACT_1000") &&
              prefix_equal("SCALE_EXACT_1000", "SCALE_EXACT_100000"),
          "SCALE_EXACT counts unchanged between 10 / 1,000 / 100,000");
  }
  return failed == 0 ? 0 : 2;
}
