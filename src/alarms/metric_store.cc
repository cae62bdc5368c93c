#include "alarms/metric_store.h"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <set>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "boost/json.hpp"
#include "common/ids.h"
#include "common/status.h"

namespace klaxon::alarms {
namespace {

namespace json = boost::json;

constexpr char kLogTable[] = "cw_metric_log";
constexpr char kSeriesTable[] = "cw_metric_series";
constexpr char kBucketTable[] = "cw_metric_buckets";
constexpr char kMetaTable[] = "cw_meta";
// Markers of log rows a committed checkpoint contains (same ids as cw_metric_log).
constexpr char kFoldedTable[] = "cw_metric_folded";
// Log rows (and their markers) deleted per transaction after a checkpoint (log rows are large).
constexpr size_t kTrimBatch = 16;
// A checkpoint transaction writing series holds at most options_.checkpoint_batch_rows rows and
// about this many bytes (a series is never split, so one with more changed buckets gets a
// transaction of its own).
constexpr size_t kSeriesBatchBytes = size_t{1} << 20;
// cw_meta row holding the generation of the last checkpoint started.
constexpr char kGenRow[] = "metric-gen";

constexpr int64_t kBucketSeconds[] = {1, 60, 300, 3600};

absl::string_view Absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

int64_t FloorTo(int64_t t, int64_t size) {
  int64_t q = t / size;
  if (t % size != 0 && t < 0) --q;
  return q * size;
}

uint64_t BucketKey(int level, int64_t start) {
  return (static_cast<uint64_t>(level) << 56) | (static_cast<uint64_t>(start) & ((1ULL << 56) - 1));
}

json::array DimensionsJson(const MetricId& m) {
  json::array dims;
  for (const Dimension& d : m.dimensions) {
    dims.emplace_back(json::string(d.name));
    dims.emplace_back(json::string(d.value));
  }
  return dims;
}

bool DimensionsFrom(const json::value* v, MetricId& m) {
  if (v == nullptr || !v->is_array()) return false;
  const json::array& a = v->get_array();
  if (a.size() % 2 != 0) return false;
  for (size_t i = 0; i < a.size(); i += 2) {
    if (!a[i].is_string() || !a[i + 1].is_string()) return false;
    m.dimensions.push_back({std::string(a[i].get_string()), std::string(a[i + 1].get_string())});
  }
  return true;
}

}  // namespace

MetricStore::MetricStore(storage::Store& store, MetricStoreOptions options)
    : store_(store), options_(std::move(options)) {}

MetricStore::~MetricStore() = default;

void MetricStore::AppendEntryKey(const std::string& account, const MetricId& metric,
                                 std::string* key) {
  // account \x1d ns \x1f name (\x1f dim \x1e value)*, as metric.Key() (one buffer, reused).
  key->append(account).push_back('\x1d');
  key->append(metric.ns).push_back('\x1f');
  key->append(metric.name);
  for (const Dimension& d : metric.dimensions) {
    key->push_back('\x1f');
    key->append(d.name).push_back('\x1e');
    key->append(d.value);
  }
}

std::string MetricStore::EntryKey(const std::string& account, const MetricId& metric) {
  std::string key;
  AppendEntryKey(account, metric, &key);
  return key;
}

size_t MetricStore::ShardIndex(std::string_view key) {
  // The top bits: the maps inside a shard use the low ones of the same hash.
  return (absl::Hash<absl::string_view>{}(Absl(key)) >> 40) % kShards;
}

MetricStore::Shard& MetricStore::ShardFor(const std::string& key) const {
  return shards_[ShardIndex(key)];
}

std::string MetricStore::SeriesRowId(uint64_t id) const {
  return absl::StrCat(options_.region, "/", Hex16(id));
}

std::string MetricStore::BucketRowId(uint64_t id, int level, int64_t start) const {
  return absl::StrCat(options_.region, "/", Hex16(id), "/", level, "/",
                      absl::StrFormat("%012d", start));
}

MetricStore::Series& MetricStore::SeriesFor(Shard& shard, std::string_view key,
                                            const std::string& account, const MetricId& metric,
                                            const std::string& unit) {
  auto it = shard.entries.find(Absl(key));
  if (it == shard.entries.end()) {
    auto entry = std::make_unique<Entry>();
    entry->account = account;
    entry->metric = metric;
    it = shard.entries.emplace(std::string(key), std::move(entry)).first;
  }
  Entry& slot = *it->second;
  for (auto& s : slot.units) {
    if (s->unit == unit) {
      s->dead = false;  // revived: keeps its id
      return *s;
    }
  }
  auto series = std::make_unique<Series>();
  series->id = next_series_id_.fetch_add(1);
  series->unit = unit;
  slot.units.push_back(std::move(series));
  return *slot.units.back();
}

void MetricStore::ApplyOne(Series& s, const MetricDatum& d, uint64_t seq) {
  const int level = d.storage_resolution == 1 ? 0 : 1;
  const int64_t ts = absl::ToUnixSeconds(d.timestamp);
  const int64_t start = FloorTo(ts, kBucketSeconds[level]);
  Aggregate& agg = s.levels[level][start];
  switch (d.kind) {
    case MetricDatum::Kind::kValue:
      agg.AddValue(d.value);
      break;
    case MetricDatum::Kind::kValues:
      for (size_t i = 0; i < d.values.size(); ++i) {
        agg.AddValue(d.values[i], d.counts.empty() ? 1.0 : d.counts[i]);
      }
      break;
    case MetricDatum::Kind::kStatisticSet:
      agg.AddStatisticSet(d.sample_count, d.sum, d.min, d.max);
      break;
  }
  if (options_.persist) s.dirty.insert(BucketKey(level, start));
  s.last_data = std::max(s.last_data, ts);
  s.updated = seq;
}

uint64_t MetricStore::Apply(const std::string& account, const std::vector<MetricDatum>& data) {
  // One sequence number per request, and one lock per shard: the datums are grouped by shard
  // first (their keys built into one buffer).
  const uint64_t seq = put_seq_.fetch_add(1, std::memory_order_relaxed) + 1;
  std::string keys;
  std::vector<uint32_t> ends(data.size());
  std::vector<uint8_t> shard_of(data.size());
  std::array<uint32_t, kShards + 1> first{};
  for (size_t i = 0; i < data.size(); ++i) {
    const size_t begin = keys.size();
    AppendEntryKey(account, data[i].metric, &keys);
    ends[i] = static_cast<uint32_t>(keys.size());
    shard_of[i] =
        static_cast<uint8_t>(ShardIndex(std::string_view(keys).substr(begin, keys.size() - begin)));
    ++first[shard_of[i] + 1];
  }
  for (int k = 0; k < kShards; ++k) first[k + 1] += first[k];
  std::vector<uint32_t> order(data.size());
  {
    std::array<uint32_t, kShards> next;
    std::copy(first.begin(), first.end() - 1, next.begin());
    for (size_t i = 0; i < data.size(); ++i) order[next[shard_of[i]]++] = static_cast<uint32_t>(i);
  }
  uint64_t samples = 0;
  for (int k = 0; k < kShards; ++k) {
    if (first[k] == first[k + 1]) continue;
    Shard& shard = shards_[k];
    MutexLock lock(&shard.mu);
    for (uint32_t j = first[k]; j < first[k + 1]; ++j) {
      const uint32_t i = order[j];
      const MetricDatum& d = data[i];
      const uint32_t begin = i == 0 ? 0 : ends[i - 1];
      Series& s = SeriesFor(shard, std::string_view(keys).substr(begin, ends[i] - begin), account,
                            d.metric, d.unit);
      ApplyOne(s, d, seq);
      samples += d.kind == MetricDatum::Kind::kValues ? d.values.size() : 1;
    }
  }
  datapoints_.fetch_add(samples, std::memory_order_relaxed);
  return samples;
}

namespace {

// Log rows are a compact binary record (this is the PutMetricData hot path, and its bytes are what
// the store writes per request):
//   "K1" | varint #strings | strings (varint length + bytes) | int64 base ms | varint #datums |
//   datums: varint ns, name | varint #dims | (varint name, value)* | varint unit |
//           zigzag varint (ms - base) | byte (resolution==1 ? 1 : 0) | (kind << 1) |
//           payload: kValue: f64 | kValues: varint n, f64*n, varint m, f64*m |
//                    kStatisticSet: f64 x4 (count, sum, min, max)
// where every string is an index into the row's string table. Numbers are little-endian.
constexpr char kLogMagic[] = "K1";

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void PutFixed64(std::string& out, uint64_t v) {
  if constexpr (std::endian::native == std::endian::little) {
    const size_t at = out.size();
    out.resize(at + 8);
    std::memcpy(out.data() + at, &v, 8);
  } else {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
}

void PutDouble(std::string& out, double d) {
  uint64_t v;
  std::memcpy(&v, &d, sizeof(v));
  PutFixed64(out, v);
}

// Little-endian IEEE doubles, in one copy on little-endian hosts.
void PutDoubles(std::string& out, const std::vector<double>& values) {
  if constexpr (std::endian::native == std::endian::little) {
    const size_t at = out.size();
    out.resize(at + 8 * values.size());
    if (!values.empty()) std::memcpy(out.data() + at, values.data(), 8 * values.size());
  } else {
    for (double v : values) PutDouble(out, v);
  }
}

class LogReader {
 public:
  explicit LogReader(std::string_view in) : in_(in) {}
  bool Varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) return false;
      uint8_t b = static_cast<uint8_t>(in_[pos_++]);
      *v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return true;
    }
    return false;
  }
  bool Fixed64(uint64_t* v) {
    if (in_.size() - pos_ < 8) return false;
    *v = 0;
    for (int i = 0; i < 8; ++i)
      *v |= static_cast<uint64_t>(static_cast<uint8_t>(in_[pos_ + i])) << (8 * i);
    pos_ += 8;
    return true;
  }
  bool Double(double* d) {
    uint64_t v;
    if (!Fixed64(&v)) return false;
    std::memcpy(d, &v, sizeof(v));
    return true;
  }
  bool Byte(uint8_t* b) {
    if (pos_ >= in_.size()) return false;
    *b = static_cast<uint8_t>(in_[pos_++]);
    return true;
  }
  bool Bytes(size_t n, std::string_view* out) {
    if (in_.size() - pos_ < n) return false;
    *out = in_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool done() const { return pos_ == in_.size(); }

 private:
  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace

std::string MetricStore::EncodeLog(const std::vector<MetricDatum>& data) const {
  // Strings repeat across datums (namespace, name, dimension names, unit): each field slot first
  // compares with the previous datum's string before hashing.
  absl::flat_hash_map<std::string_view, uint64_t> index;
  std::vector<std::string_view> strings;
  auto intern = [&](std::string_view s) {
    auto [it, inserted] = index.try_emplace(s, strings.size());
    if (inserted) strings.push_back(s);
    return it->second;
  };
  struct Slot {
    std::string_view text;
    uint64_t id = ~uint64_t{0};
  };
  Slot ns_slot, name_slot, unit_slot;
  std::vector<Slot> dim_slots;
  auto cached = [&](Slot& slot, std::string_view s) {
    if (slot.id == ~uint64_t{0} || slot.text != s) {
      slot.text = s;
      slot.id = intern(s);
    }
    return slot.id;
  };
  std::string body;
  size_t values = 0;
  for (const MetricDatum& d : data) values += d.values.size() + d.counts.size();
  body.reserve(data.size() * 40 + values * 8);
  const int64_t base = data.empty() ? 0 : absl::ToUnixMillis(data[0].timestamp);
  PutVarint(body, data.size());
  for (const MetricDatum& d : data) {
    PutVarint(body, cached(ns_slot, d.metric.ns));
    PutVarint(body, cached(name_slot, d.metric.name));
    PutVarint(body, d.metric.dimensions.size());
    if (dim_slots.size() < d.metric.dimensions.size()) dim_slots.resize(d.metric.dimensions.size());
    for (size_t j = 0; j < d.metric.dimensions.size(); ++j) {
      PutVarint(body, cached(dim_slots[j], d.metric.dimensions[j].name));
      PutVarint(body, intern(d.metric.dimensions[j].value));
    }
    PutVarint(body, cached(unit_slot, d.unit));
    const int64_t delta = absl::ToUnixMillis(d.timestamp) - base;
    PutVarint(body, (static_cast<uint64_t>(delta) << 1) ^ static_cast<uint64_t>(delta >> 63));
    body.push_back(
        static_cast<char>((d.storage_resolution == 1 ? 1 : 0) | (static_cast<int>(d.kind) << 1)));
    switch (d.kind) {
      case MetricDatum::Kind::kValue:
        PutDouble(body, d.value);
        break;
      case MetricDatum::Kind::kValues:
        PutVarint(body, d.values.size());
        PutDoubles(body, d.values);
        PutVarint(body, d.counts.size());
        PutDoubles(body, d.counts);
        break;
      case MetricDatum::Kind::kStatisticSet:
        PutDouble(body, d.sample_count);
        PutDouble(body, d.sum);
        PutDouble(body, d.min);
        PutDouble(body, d.max);
        break;
    }
  }
  size_t header = 2 + 10 + 8;
  for (std::string_view str : strings) header += 10 + str.size();
  std::string out;
  out.reserve(header + body.size());
  out = kLogMagic;
  PutVarint(out, strings.size());
  for (std::string_view str : strings) {
    PutVarint(out, str.size());
    out.append(str);
  }
  PutFixed64(out, static_cast<uint64_t>(base));
  out += body;
  return out;
}

absl::Status MetricStore::DecodeLog(std::string_view text, std::vector<MetricDatum>* out) {
  auto bad = [] { return absl::DataLossError("cw_metric_log: row does not decode"); };
  if (text.substr(0, 2) != kLogMagic) return bad();
  LogReader r(text.substr(2));
  uint64_t n = 0;
  if (!r.Varint(&n)) return bad();
  std::vector<std::string_view> strings;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t len = 0;
    std::string_view str;
    if (!r.Varint(&len) || !r.Bytes(len, &str)) return bad();
    strings.push_back(str);
  }
  auto str = [&](uint64_t i, std::string* s) {
    if (i >= strings.size()) return false;
    *s = std::string(strings[i]);
    return true;
  };
  uint64_t base = 0, count = 0;
  if (!r.Fixed64(&base) || !r.Varint(&count)) return bad();
  for (uint64_t k = 0; k < count; ++k) {
    MetricDatum d;
    uint64_t ns = 0, name = 0, dims = 0, unit = 0, zz = 0;
    if (!r.Varint(&ns) || !str(ns, &d.metric.ns) || !r.Varint(&name) ||
        !str(name, &d.metric.name) || !r.Varint(&dims) || dims > 1000) {
      return bad();
    }
    for (uint64_t j = 0; j < dims; ++j) {
      uint64_t dn = 0, dv = 0;
      Dimension dim;
      if (!r.Varint(&dn) || !str(dn, &dim.name) || !r.Varint(&dv) || !str(dv, &dim.value)) {
        return bad();
      }
      d.metric.dimensions.push_back(std::move(dim));
    }
    uint8_t flags = 0;
    if (!r.Varint(&unit) || !str(unit, &d.unit) || !r.Varint(&zz) || !r.Byte(&flags)) return bad();
    const int64_t delta = static_cast<int64_t>(zz >> 1) ^ -static_cast<int64_t>(zz & 1);
    d.timestamp = absl::FromUnixMillis(static_cast<int64_t>(base) + delta);
    d.storage_resolution = (flags & 1) ? 1 : 60;
    switch (flags >> 1) {
      case 0:
        d.kind = MetricDatum::Kind::kValue;
        if (!r.Double(&d.value)) return bad();
        break;
      case 1: {
        d.kind = MetricDatum::Kind::kValues;
        uint64_t nv = 0, nc = 0;
        if (!r.Varint(&nv) || nv > 100000) return bad();
        d.values.resize(nv);
        for (auto& v : d.values) {
          if (!r.Double(&v)) return bad();
        }
        if (!r.Varint(&nc) || (nc != 0 && nc != nv)) return bad();
        d.counts.resize(nc);
        for (auto& c : d.counts) {
          if (!r.Double(&c)) return bad();
        }
        break;
      }
      case 2:
        d.kind = MetricDatum::Kind::kStatisticSet;
        if (!r.Double(&d.sample_count) || !r.Double(&d.sum) || !r.Double(&d.min) ||
            !r.Double(&d.max)) {
          return bad();
        }
        break;
      default:
        return bad();
    }
    out->push_back(std::move(d));
  }
  if (!r.done()) return bad();
  return absl::OkStatus();
}

absl::Status MetricStore::Put(const std::string& account, const std::vector<MetricDatum>& data) {
  if (data.empty()) return absl::OkStatus();
  std::string log_id;
  if (options_.persist) {
    bool new_account;
    {
      MutexLock lock(&applied_mu_);
      new_account = !known_accounts_.contains(account);
    }
    std::string row = EncodeLog(data);
    log_id =
        absl::StrCat(options_.region, "/", absl::StrFormat("%020d", next_log_seq_.fetch_add(1)));
    KLAXON_RETURN_IF_ERROR(store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
      if (new_account) {
        KLAXON_RETURN_IF_ERROR(txn.Put(
            kMetaTable, "", absl::StrCat(options_.region, "/metric-account/", account), ""));
      }
      return txn.Put(kLogTable, account, log_id, row);
    }));
    log_rows_.fetch_add(1, std::memory_order_relaxed);
    if (new_account) {
      MutexLock lock(&applied_mu_);
      known_accounts_.insert(account);
    }
  }
  ReaderLock apply_lock(&apply_mu_);
  Apply(account, data);
  if (options_.persist) {
    MutexLock lock(&applied_mu_);
    applied_log_.emplace_back(account, std::move(log_id));
  }
  return absl::OkStatus();
}

void MetricStore::CollectWindows(const Series& s, int64_t start, int64_t period, int n,
                                 std::vector<Aggregate>& out) const {
  const int64_t end = start + period * n;
  for (int level = 0; level < kLevels; ++level) {
    const auto& buckets = s.levels[level];
    for (auto it = buckets.lower_bound(start); it != buckets.end() && it->first < end; ++it) {
      out[(it->first - start) / period].Merge(it->second);
    }
  }
}

std::vector<Aggregate> MetricStore::Query(const std::string& account, const MetricId& metric,
                                          const std::optional<std::string>& unit, absl::Time start,
                                          absl::Duration period, int n) const {
  std::vector<Aggregate> out(std::max(n, 0));
  if (n <= 0) return out;
  const int64_t p = std::max<int64_t>(1, absl::ToInt64Seconds(period));
  const int64_t s0 = absl::ToUnixSeconds(start);
  std::string key = EntryKey(account, metric);
  Shard& shard = ShardFor(key);
  MutexLock lock(&shard.mu);
  auto it = shard.entries.find(key);
  if (it == shard.entries.end()) return out;
  for (const auto& series : it->second->units) {
    if (unit && series->unit != *unit) continue;
    CollectWindows(*series, s0, p, n, out);
  }
  return out;
}

uint64_t MetricStore::UpdateSequence(const std::string& account, const MetricId& metric) const {
  std::string key = EntryKey(account, metric);
  Shard& shard = ShardFor(key);
  MutexLock lock(&shard.mu);
  auto it = shard.entries.find(key);
  if (it == shard.entries.end()) return 0;
  uint64_t seq = 0;
  for (const auto& s : it->second->units) seq = std::max(seq, s->updated);
  return seq;
}

std::map<std::string, std::vector<Aggregate>> MetricStore::QueryByUnit(
    const std::string& account, const MetricId& metric, const std::optional<std::string>& unit,
    absl::Time start, absl::Duration period, int n) const {
  std::map<std::string, std::vector<Aggregate>> out;
  if (n <= 0) return out;
  const int64_t p = std::max<int64_t>(1, absl::ToInt64Seconds(period));
  const int64_t s0 = absl::ToUnixSeconds(start);
  std::string key = EntryKey(account, metric);
  Shard& shard = ShardFor(key);
  MutexLock lock(&shard.mu);
  auto it = shard.entries.find(key);
  if (it == shard.entries.end()) return out;
  for (const auto& series : it->second->units) {
    if (series->dead || (unit && series->unit != *unit)) continue;
    auto& windows = out[series->unit];
    windows.resize(n);
    CollectWindows(*series, s0, p, n, windows);
  }
  return out;
}

std::vector<ListedMetric> MetricStore::List(const std::string& account,
                                            const std::optional<std::string>& ns,
                                            const std::optional<std::string>& name,
                                            const std::vector<DimensionFilter>& dimensions,
                                            absl::Time since) const {
  std::vector<ListedMetric> out;
  const int64_t since_s = absl::ToUnixSeconds(since);
  for (const Shard& shard : shards_) {
    MutexLock lock(&shard.mu);
    for (const auto& [key, entry] : shard.entries) {
      if (entry->account != account) continue;
      if (ns && entry->metric.ns != *ns) continue;
      if (name && entry->metric.name != *name) continue;
      bool match = true;
      for (const DimensionFilter& f : dimensions) {
        bool found = false;
        for (const Dimension& d : entry->metric.dimensions) {
          if (d.name == f.name && (!f.value || d.value == *f.value)) found = true;
        }
        if (!found) {
          match = false;
          break;
        }
      }
      if (!match) continue;
      int64_t last = 0;
      bool live = false;
      for (const auto& s : entry->units) {
        if (s->dead) continue;
        live = true;
        last = std::max(last, s->last_data);
      }
      if (!live || last < since_s) continue;
      out.push_back({entry->metric, absl::FromUnixSeconds(last)});
    }
  }
  std::sort(out.begin(), out.end(), [](const ListedMetric& a, const ListedMetric& b) {
    return std::tie(a.metric.ns, a.metric.name, a.metric.dimensions) <
           std::tie(b.metric.ns, b.metric.name, b.metric.dimensions);
  });
  return out;
}

void MetricStore::MergeInto(Series& s, int level, int64_t start, const Aggregate& agg) {
  s.levels[level][start].Merge(agg);
  if (options_.persist) s.dirty.insert(BucketKey(level, start));
}

void MetricStore::RemoveBucket(Series& s, int level, int64_t start) {
  s.levels[level].erase(start);
  // A dirty key whose bucket is gone makes the checkpoint delete the row.
  if (options_.persist) s.dirty.insert(BucketKey(level, start));
}

bool MetricStore::CompactSeries(Series& s, int64_t now) {
  const int64_t keep[] = {now - absl::ToInt64Seconds(options_.high_res_retention),
                          now - absl::ToInt64Seconds(options_.minute_retention),
                          now - absl::ToInt64Seconds(options_.five_minute_retention),
                          now - absl::ToInt64Seconds(options_.hour_retention)};
  for (int level = 0; level < kLevels; ++level) {
    auto& buckets = s.levels[level];
    while (!buckets.empty() && buckets.begin()->first < keep[level]) {
      const int64_t start = buckets.begin()->first;
      if (level + 1 < kLevels) {
        MergeInto(s, level + 1, FloorTo(start, kBucketSeconds[level + 1]), buckets.begin()->second);
      }
      RemoveBucket(s, level, start);
    }
  }
  for (const auto& level : s.levels) {
    if (!level.empty()) return true;
  }
  return false;
}

void MetricStore::Compact(absl::Time now) {
  const int64_t now_s = absl::ToUnixSeconds(now);
  ReaderLock apply_lock(&apply_mu_);
  for (Shard& shard : shards_) {
    MutexLock lock(&shard.mu);
    for (auto it = shard.entries.begin(); it != shard.entries.end();) {
      Entry& entry = *it->second;
      for (size_t i = 0; i < entry.units.size();) {
        Series& s = *entry.units[i];
        if (s.dead || CompactSeries(s, now_s)) {
          ++i;
          continue;
        }
        if (options_.persist) {
          s.dead = true;  // a checkpoint writes its tombstone, then forgets it
          s.last_data = 0;
          ++i;
        } else {
          entry.units.erase(entry.units.begin() + i);
        }
      }
      if (entry.units.empty()) {
        shard.entries.erase(it++);
      } else {
        ++it;
      }
    }
  }
  EnforceMemoryBound();
}

void MetricStore::EnforceMemoryBound() {
  // Walk once to size everything; drop the oldest buckets until 90% of the budget.
  struct Candidate {
    int64_t start;
    size_t bytes;
  };
  std::vector<Candidate> candidates;
  size_t total = 0;
  for (Shard& shard : shards_) {
    MutexLock lock(&shard.mu);
    for (const auto& [key, entry] : shard.entries) {
      total += sizeof(Entry) + key.size() * 2;
      for (const auto& s : entry->units) {
        total += sizeof(Series);
        for (const auto& level : s->levels) {
          for (const auto& [start, agg] : level) {
            size_t bytes = agg.MemoryBytes() + 16;
            total += bytes;
            candidates.push_back({start, bytes});
          }
        }
      }
    }
  }
  if (total <= options_.max_memory_bytes) return;
  const size_t target = options_.max_memory_bytes / 10 * 9;
  std::sort(candidates.begin(), candidates.end(),
            [](const Candidate& a, const Candidate& b) { return a.start < b.start; });
  size_t freed = 0;
  int64_t cutoff = 0;
  for (const Candidate& c : candidates) {
    if (total - freed <= target) break;
    freed += c.bytes;
    cutoff = c.start + 1;
  }
  for (Shard& shard : shards_) {
    MutexLock lock(&shard.mu);
    for (auto it = shard.entries.begin(); it != shard.entries.end();) {
      Entry& entry = *it->second;
      for (size_t i = 0; i < entry.units.size();) {
        Series& s = *entry.units[i];
        bool any = false;
        for (int level = 0; level < kLevels; ++level) {
          auto& buckets = s.levels[level];
          while (!buckets.empty() && buckets.begin()->first < cutoff) {
            RemoveBucket(s, level, buckets.begin()->first);
          }
          any = any || !buckets.empty();
        }
        if (any || s.dead) {
          ++i;
          continue;
        }
        if (options_.persist) {
          s.dead = true;
          s.last_data = 0;
          ++i;
        } else {
          entry.units.erase(entry.units.begin() + i);
        }
      }
      if (entry.units.empty()) {
        shard.entries.erase(it++);
      } else {
        ++it;
      }
    }
  }
}

namespace {

std::string SeriesRow(const MetricId& metric, const std::string& unit, uint64_t gen,
                      bool tombstone) {
  json::object row{{"ns", metric.ns},
                   {"name", metric.name},
                   {"dims", DimensionsJson(metric)},
                   {"unit", unit},
                   {"gen", gen}};
  if (tombstone) row["deleted"] = true;
  return json::serialize(row);
}

bool IsTombstoneRow(std::string_view row) {
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(row.data(), row.size()), ec);
  const json::object* o = ec ? nullptr : v.if_object();
  const json::value* deleted = o ? o->if_contains("deleted") : nullptr;
  return deleted != nullptr && deleted->is_bool() && deleted->get_bool();
}

}  // namespace

std::vector<MetricStore::SeriesWrite> MetricStore::Snapshot() {
  std::vector<SeriesWrite> writes;
  for (Shard& shard : shards_) {
    MutexLock lock(&shard.mu);
    for (const auto& [key, entry] : shard.entries) {
      for (const auto& s : entry->units) {
        if (s->dirty.empty()) continue;
        SeriesWrite& w = writes.emplace_back();
        w.account = entry->account;
        w.entry_key = key;
        w.id = s->id;
        w.metric = entry->metric;
        w.unit = s->unit;
        w.tombstone = s->dead;
        w.buckets.reserve(s->dirty.size());
        for (uint64_t bk : s->dirty) {
          const int level = static_cast<int>(bk >> 56);
          const int64_t start = static_cast<int64_t>(bk & ((1ULL << 56) - 1));
          auto it = s->levels[level].find(start);
          if (it == s->levels[level].end()) {
            w.buckets.emplace_back(bk, std::nullopt);
          } else {
            // Copied now, encoded after the lock is released (Put waits meanwhile).
            w.buckets.emplace_back(bk, it->second);
          }
        }
        s->dirty.clear();
      }
    }
  }
  return writes;
}

void MetricStore::Requeue(std::vector<SeriesWrite>& writes, size_t from) {
  for (size_t i = from; i < writes.size(); ++i) {
    const SeriesWrite& w = writes[i];
    Shard& shard = ShardFor(w.entry_key);
    MutexLock lock(&shard.mu);
    auto it = shard.entries.find(w.entry_key);
    if (it == shard.entries.end()) continue;  // cannot happen: only a checkpoint forgets series
    for (auto& s : it->second->units) {
      if (s->id != w.id) continue;
      for (const auto& b : w.buckets) s->dirty.insert(b.first);
      // A dead series with nothing left to delete still needs its tombstone written.
      if (s->dead && s->dirty.empty()) s->dirty.insert(BucketKey(kLevels - 1, 0));
    }
  }
}

void MetricStore::ForgetDead(const std::vector<Tombstone>& deleted) {
  for (const Tombstone& t : deleted) {
    Shard& shard = ShardFor(t.entry_key);
    MutexLock lock(&shard.mu);
    auto it = shard.entries.find(t.entry_key);
    if (it == shard.entries.end()) continue;
    auto& units = it->second->units;
    units.erase(std::remove_if(units.begin(), units.end(),
                               [&](const std::unique_ptr<Series>& s) {
                                 return s->id == t.id && s->dead && s->dirty.empty();
                               }),
                units.end());
    if (units.empty()) shard.entries.erase(it);
  }
}

absl::Status MetricStore::WriteMarkers(uint64_t gen, const std::vector<LogRef>& rows) {
  const std::string value = absl::StrCat(gen);
  size_t i = 0;
  do {
    const size_t end = std::min(rows.size(), i + 4 * options_.checkpoint_batch_rows);
    KLAXON_RETURN_IF_ERROR(store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
      if (i == 0) {
        KLAXON_RETURN_IF_ERROR(
            txn.Put(kMetaTable, "", absl::StrCat(options_.region, "/", kGenRow), value));
      }
      for (size_t k = i; k < end; ++k) {
        KLAXON_RETURN_IF_ERROR(txn.Put(kFoldedTable, rows[k].first, rows[k].second, value));
      }
      return absl::OkStatus();
    }));
    i = end;
  } while (i < rows.size());
  return absl::OkStatus();
}

absl::Status MetricStore::WriteSeries(uint64_t gen, std::vector<SeriesWrite>& writes,
                                      size_t* written) {
  // Encoded one batch at a time: a checkpoint never holds all its rows as text at once.
  struct Row {
    const char* table;
    const std::string* account;
    std::string id;
    std::optional<std::string> value;
  };
  std::vector<Row> rows;
  size_t i = 0;
  while (i < writes.size()) {
    rows.clear();
    size_t bytes = 0;
    size_t end = i;
    while (end < writes.size() && (end == i || (rows.size() + writes[end].buckets.size() + 1 <=
                                                    options_.checkpoint_batch_rows &&
                                                bytes < kSeriesBatchBytes))) {
      const SeriesWrite& w = writes[end];
      for (const auto& [bk, agg] : w.buckets) {
        const int level = static_cast<int>(bk >> 56);
        const int64_t start = static_cast<int64_t>(bk & ((1ULL << 56) - 1));
        Row& row = rows.emplace_back(
            Row{kBucketTable, &w.account, BucketRowId(w.id, level, start), std::nullopt});
        if (agg) row.value = agg->Encode();
        bytes += row.id.size() + (row.value ? row.value->size() : 0);
      }
      Row& row = rows.emplace_back(Row{kSeriesTable, &w.account, SeriesRowId(w.id),
                                       SeriesRow(w.metric, w.unit, gen, w.tombstone)});
      bytes += row.id.size() + row.value->size();
      ++end;
    }
    KLAXON_RETURN_IF_ERROR(store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
      for (const Row& row : rows) {
        if (row.value) {
          KLAXON_RETURN_IF_ERROR(txn.Put(row.table, *row.account, row.id, *row.value));
        } else {
          KLAXON_RETURN_IF_ERROR(txn.Delete(row.table, *row.account, row.id));
        }
      }
      return absl::OkStatus();
    }));
    i = end;
    *written = i;
  }
  return absl::OkStatus();
}

absl::Status MetricStore::Checkpoint() {
  if (!options_.persist) return absl::OkStatus();
  MutexLock checkpoint_lock(&checkpoint_mu_);
  std::vector<LogRef> marked;
  std::vector<SeriesWrite> writes;
  {
    // 1. The cut: every log row in `marked` is in the copied buckets, and no other is.
    WriterLock apply_lock(&apply_mu_);
    {
      MutexLock lock(&applied_mu_);
      marked.swap(applied_log_);
    }
    writes = Snapshot();
  }
  if (!pending_mark_.empty()) {
    marked.insert(marked.end(), std::make_move_iterator(pending_mark_.begin()),
                  std::make_move_iterator(pending_mark_.end()));
    pending_mark_.clear();
  }
  if (writes.empty() && marked.empty() && pending_trim_.empty() && pending_tombstones_.empty()) {
    return absl::OkStatus();
  }
  const uint64_t gen = ++gen_;
  // 2. Markers first: a series written with gen G must never meet an unmarked row it contains.
  if (absl::Status s = WriteMarkers(gen, marked); !s.ok()) {
    pending_mark_ = std::move(marked);  // no series has gen G: marking them later is safe
    Requeue(writes, 0);
    return s;
  }
  // 3. Series, each whole, in bounded transactions.
  size_t written = 0;
  absl::Status status = WriteSeries(gen, writes, &written);
  for (size_t i = 0; i < written; ++i) {
    if (writes[i].tombstone) {
      pending_tombstones_.push_back({writes[i].account, writes[i].entry_key, writes[i].id});
    }
  }
  // The rows keep marker G (series written with gen G contain them): they are deleted once a
  // checkpoint has written all its series.
  pending_trim_.insert(pending_trim_.end(), std::make_move_iterator(marked.begin()),
                       std::make_move_iterator(marked.end()));
  if (!status.ok()) {
    Requeue(writes, written);
    return status;
  }
  // 4. Every series row now holds every marked row: delete them, then the tombstones.
  std::vector<Tombstone> tombstones = pending_tombstones_;
  status = TrimLog(&pending_trim_, &pending_tombstones_);
  tombstones.resize(tombstones.size() - pending_tombstones_.size());
  ForgetDead(tombstones);
  return status;
}

absl::Status MetricStore::TrimLog(std::vector<LogRef>* rows, std::vector<Tombstone>* tombstones) {
  size_t done = 0;
  while (done < rows->size()) {
    const size_t end = std::min(rows->size(), done + kTrimBatch);
    absl::Status status = store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
      for (size_t k = done; k < end; ++k) {
        KLAXON_RETURN_IF_ERROR(txn.Delete(kLogTable, (*rows)[k].first, (*rows)[k].second));
        KLAXON_RETURN_IF_ERROR(txn.Delete(kFoldedTable, (*rows)[k].first, (*rows)[k].second));
      }
      return absl::OkStatus();
    });
    if (!status.ok()) {
      rows->erase(rows->begin(), rows->begin() + done);
      return status;
    }
    done = end;
  }
  rows->clear();
  done = 0;
  while (done < tombstones->size()) {
    const size_t end = std::min(tombstones->size(), done + 4 * options_.checkpoint_batch_rows);
    absl::Status status = store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
      for (size_t k = done; k < end; ++k) {
        const Tombstone& t = (*tombstones)[k];
        const std::string id = SeriesRowId(t.id);
        // A series revived and written since is no longer a tombstone: keep it.
        KLAXON_ASSIGN_OR_RETURN(auto row, txn.Get(kSeriesTable, t.account, id));
        if (row && IsTombstoneRow(*row)) {
          KLAXON_RETURN_IF_ERROR(txn.Delete(kSeriesTable, t.account, id));
        }
      }
      return absl::OkStatus();
    });
    if (!status.ok()) {
      // The first `done` are gone; the caller keeps the rest.
      tombstones->erase(tombstones->begin(), tombstones->begin() + done);
      return status;
    }
    done = end;
  }
  tombstones->clear();
  return absl::OkStatus();
}

absl::Status MetricStore::Recover() {
  if (!options_.persist) return absl::OkStatus();
  {
    MutexLock checkpoint_lock(&checkpoint_mu_);
    KLAXON_RETURN_IF_ERROR(LoadLocked());
  }
  // Folds what was replayed and finishes an interrupted trim: the log starts (nearly) empty.
  return Checkpoint();
}

absl::Status MetricStore::LoadLocked() {
  const std::string region_prefix = options_.region + "/";
  std::vector<std::string> accounts;
  uint64_t max_gen = 0;
  KLAXON_RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    KLAXON_ASSIGN_OR_RETURN(auto gen, txn.Get(kMetaTable, "", region_prefix + kGenRow));
    if (gen && !absl::SimpleAtoi(Absl(*gen), &max_gen)) {
      return absl::DataLossError("cw_meta: generation does not decode");
    }
    const std::string prefix = region_prefix + "metric-account/";
    return txn.Scan(kMetaTable, "", prefix, "", 0, [&](std::string_view id, std::string_view) {
      accounts.emplace_back(id.substr(prefix.size()));
      return true;
    });
  }));
  struct AccountLog {
    std::string account;
    // EntryKey + '\x1d' + unit -> gen of its series row (live or tombstone).
    absl::flat_hash_map<std::string, uint64_t> gens;
    std::vector<std::pair<std::string, std::string>> log;  // id, value
    absl::flat_hash_map<std::string, uint64_t> markers;    // id -> gen
  };
  std::vector<AccountLog> logs;
  std::vector<Tombstone> tombstones;
  uint64_t max_series = 0;
  uint64_t max_log = 0;
  for (const std::string& account : accounts) {
    AccountLog& al = logs.emplace_back();
    al.account = account;
    std::map<uint64_t, Series*> by_id;
    absl::Status decode_error;
    KLAXON_RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
      KLAXON_RETURN_IF_ERROR(txn.Scan(
          kSeriesTable, account, region_prefix, "", 0,
          [&](std::string_view id, std::string_view value) {
            uint64_t sid = 0;
            boost::system::error_code ec;
            json::value v = json::parse(json::string_view(value.data(), value.size()), ec);
            const json::object* o = ec ? nullptr : v.if_object();
            const json::value* gen_v = o ? o->if_contains("gen") : nullptr;
            const json::value* deleted_v = o ? o->if_contains("deleted") : nullptr;
            MetricId metric;
            if (o == nullptr || !absl::SimpleHexAtoi(Absl(id.substr(region_prefix.size())), &sid) ||
                !o->contains("ns") || !o->at("ns").is_string() || !o->contains("name") ||
                !o->at("name").is_string() || !o->contains("unit") || !o->at("unit").is_string() ||
                (gen_v && !gen_v->is_uint64() && !gen_v->is_int64()) ||
                (deleted_v && !deleted_v->is_bool()) ||
                !DimensionsFrom(o->if_contains("dims"), metric)) {
              decode_error = absl::DataLossError(absl::StrCat("cw_metric_series ", Absl(id)));
              return false;
            }
            metric.ns = std::string(o->at("ns").get_string());
            metric.name = std::string(o->at("name").get_string());
            const uint64_t gen = gen_v ? gen_v->to_number<uint64_t>() : 0;
            const bool dead = deleted_v && deleted_v->get_bool();
            max_gen = std::max(max_gen, gen);
            max_series = std::max(max_series, sid);
            std::string key = EntryKey(account, metric);
            std::string unit(o->at("unit").get_string());
            al.gens[absl::StrCat(key, "\x1d", unit)] = gen;
            Shard& shard = ShardFor(key);
            MutexLock lock(&shard.mu);
            auto& slot = shard.entries[key];
            if (!slot) {
              slot = std::make_unique<Entry>();
              slot->account = account;
              slot->metric = std::move(metric);
            }
            auto series = std::make_unique<Series>();
            series->id = sid;
            series->unit = std::move(unit);
            series->dead = dead;
            if (dead) {
              // Held until the tombstone is deleted (the end of the next checkpoint).
              tombstones.push_back({account, key, sid});
            } else {
              by_id[sid] = series.get();
            }
            slot->units.push_back(std::move(series));
            return true;
          }));
      if (!decode_error.ok()) return decode_error;
      KLAXON_RETURN_IF_ERROR(txn.Scan(
          kBucketTable, account, region_prefix, "", 0,
          [&](std::string_view id, std::string_view value) {
            // REGION/<hex16>/<level>/<start>
            std::vector<absl::string_view> parts =
                absl::StrSplit(Absl(id.substr(region_prefix.size())), '/');
            uint64_t sid = 0;
            int level = 0;
            int64_t start = 0;
            auto agg = Aggregate::Decode(value);
            if (parts.size() != 3 || !absl::SimpleHexAtoi(parts[0], &sid) ||
                !absl::SimpleAtoi(parts[1], &level) || !absl::SimpleAtoi(parts[2], &start) ||
                level < 0 || level >= kLevels || !agg) {
              decode_error = absl::DataLossError(absl::StrCat("cw_metric_buckets ", Absl(id)));
              return false;
            }
            auto it = by_id.find(sid);
            if (it == by_id.end()) return true;  // orphan of a removed series
            it->second->levels[level][start] = std::move(*agg);
            it->second->last_data = std::max(it->second->last_data, start);
            return true;
          }));
      if (!decode_error.ok()) return decode_error;
      KLAXON_RETURN_IF_ERROR(txn.Scan(
          kFoldedTable, account, region_prefix, "", 0,
          [&](std::string_view id, std::string_view value) {
            // "" = folded by a single-transaction checkpoint of an older version (gen 0).
            uint64_t gen = 0;
            if (!value.empty() && !absl::SimpleAtoi(Absl(value), &gen)) {
              decode_error = absl::DataLossError(absl::StrCat("cw_metric_folded ", Absl(id)));
              return false;
            }
            max_gen = std::max(max_gen, gen);
            al.markers.emplace(std::string(id), gen);
            return true;
          }));
      if (!decode_error.ok()) return decode_error;
      return txn.Scan(kLogTable, account, region_prefix, "", 0,
                      [&](std::string_view id, std::string_view value) {
                        al.log.emplace_back(std::string(id), std::string(value));
                        return true;
                      });
    }));
  }
  pending_tombstones_.insert(pending_tombstones_.end(), tombstones.begin(), tombstones.end());
  // Ids first: a series the replay creates must not take the id of a stored one.
  next_series_id_.store(max_series + 1);
  gen_ = max_gen;
  // Replay: a row with marker m goes into the series whose stored gen is < m (unmarked: into
  // every series), in log order.
  std::vector<MetricDatum> data, replay;
  for (AccountLog& al : logs) {
    for (const auto& [id, value] : al.log) {
      uint64_t seq = 0;
      if (absl::SimpleAtoi(Absl(std::string_view(id).substr(region_prefix.size())), &seq)) {
        max_log = std::max(max_log, seq);
      }
      auto marker = al.markers.find(id);
      const bool marked = marker != al.markers.end();
      const uint64_t m = marked ? marker->second : std::numeric_limits<uint64_t>::max();
      if (marked) al.markers.erase(marker);
      data.clear();
      KLAXON_RETURN_IF_ERROR(DecodeLog(value, &data));
      replay.clear();
      for (MetricDatum& d : data) {
        auto g = al.gens.find(absl::StrCat(EntryKey(al.account, d.metric), "\x1d", d.unit));
        if (g == al.gens.end() || g->second < m) replay.push_back(std::move(d));
      }
      if (!replay.empty()) Apply(al.account, replay);
      if (marked) {
        pending_trim_.emplace_back(al.account, id);  // keeps its marker until a checkpoint ends
      } else {
        MutexLock lock(&applied_mu_);
        applied_log_.emplace_back(al.account, id);
      }
    }
    for (const auto& [id, gen] : al.markers) {
      pending_trim_.emplace_back(al.account, id);  // a marker whose row is gone
    }
    MutexLock lock(&applied_mu_);
    known_accounts_.insert(al.account);
  }
  next_log_seq_.store(max_log + 1);
  return absl::OkStatus();
}

MetricStoreStats MetricStore::Stats() const {
  MetricStoreStats stats;
  for (const Shard& shard : shards_) {
    MutexLock lock(&shard.mu);
    for (const auto& [key, entry] : shard.entries) {
      stats.memory_bytes += sizeof(Entry) + key.size() * 2;
      for (const auto& s : entry->units) {
        if (s->dead) continue;
        ++stats.series;
        stats.memory_bytes += sizeof(Series);
        for (const auto& level : s->levels) {
          stats.buckets += level.size();
          for (const auto& [start, agg] : level) stats.memory_bytes += agg.MemoryBytes() + 16;
        }
      }
    }
  }
  stats.datapoints = datapoints_.load();
  stats.log_rows = log_rows_.load();
  return stats;
}

}  // namespace klaxon::alarms
