#include "incidents/client_tokens.h"

#include <algorithm>
#include <vector>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "common/ids.h"
#include "common/status.h"
#include "incidents/errors.h"
#include "incidents/records.h"
#include "incidents/strings.h"

namespace klaxon::incidents {
namespace json = boost::json;
namespace {

using internal::kTokenLogTable;

// One record of the log (or of the table before it), decoded.
struct Record {
  std::string op;
  std::string token;
  std::string fp;
  json::value result;
  absl::Time time;
};

std::string_view Text(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(json::string_view(key.data(), key.size()));
  return v != nullptr && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

absl::StatusOr<json::object> Parse(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec || !v.is_object()) return absl::InternalError("corrupt stored client token");
  return std::move(v.get_object());
}

absl::StatusOr<Record> Decode(std::string_view text) {
  KLAXON_ASSIGN_OR_RETURN(json::object o, Parse(text));
  Record r;
  r.op = std::string(Text(o, "op"));
  r.token = std::string(Text(o, "token"));
  r.fp = std::string(Text(o, "fp"));
  if (const json::value* v = o.if_contains("result")) r.result = *v;
  if (const json::value* v = o.if_contains("time"); v != nullptr && v->is_int64()) {
    r.time = absl::FromUnixNanos(v->get_int64());
  }
  return r;
}

}  // namespace

ClientTokens::ClientTokens(const Limits& limits)
    : retention_(limits.client_token_retention),
      max_tokens_(std::max<size_t>(1, limits.max_client_tokens)) {}

std::string ClientTokens::LogId(uint64_t seq) { return Hex16(seq); }

uint64_t ClientTokens::HashOf(std::string_view operation, std::string_view token) {
  return absl::HashOf(absl::string_view(operation.data(), operation.size()),
                      absl::string_view(token.data(), token.size()));
}

absl::StatusOr<ClientTokens::AccountIndex*> ClientTokens::Load(storage::WriteTxn& txn,
                                                               std::string_view account) {
  // Looked up by view first: this runs for every call with a token.
  auto found = accounts_.find(absl::string_view(account.data(), account.size()));
  if (found != accounts_.end() && found->second.loaded) return &found->second;
  AccountIndex& index = found != accounts_.end() ? found->second : accounts_[std::string(account)];
  // A failed load leaves the index empty and unloaded: the next call starts over.
  index = AccountIndex();
  absl::Status decoded = absl::OkStatus();
  KLAXON_RETURN_IF_ERROR(txn.Scan(
      kTokenLogTable, account, "", "", 0, [&](std::string_view id, std::string_view value) {
        std::optional<uint64_t> seq = ParseHex16(id);
        absl::StatusOr<Record> r = Decode(value);
        if (!seq || !r.ok()) {
          decoded = absl::InternalError(internal::Cat("corrupt client token record ", id));
          return false;
        }
        const uint64_t hash = HashOf(r->op, r->token);
        index.by_hash[hash].push_back(*seq);
        index.order.push_back(Entry{*seq, hash, absl::ToUnixNanos(r->time)});
        index.next_seq = *seq + 1;
        return true;
      }));
  KLAXON_RETURN_IF_ERROR(decoded);

  // Records of the table before the log ("OPERATION/TOKEN" -> {fp, result, time}) are still
  // looked up there.
  KLAXON_RETURN_IF_ERROR(
      txn.Scan(internal::kTokenTable, account, "", "", 1, [&](std::string_view, std::string_view) {
        index.has_legacy = true;
        return false;
      }));
  index.loaded = true;
  return &index;
}

absl::Status ClientTokens::Append(storage::WriteTxn& txn, std::string_view account,
                                  AccountIndex& index, std::string_view operation,
                                  std::string_view token, std::string_view fingerprint,
                                  const json::value& result, absl::Time time) {
  // The record is the JSON object {"op", "token", "fp", "result", "time"} (Decode reads
  // it), written without building a json::object on this, the writer's, thread.
  auto quoted = [](std::string_view s) {
    return json::serialize(json::string_view(s.data(), s.size()));
  };
  std::string record =
      absl::StrCat(R"({"op":)", quoted(operation), R"(,"token":)", quoted(token), R"(,"fp":)",
                   quoted(fingerprint), R"(,"result":)", json::serialize(result), R"(,"time":)",
                   absl::ToUnixNanos(time), "}");
  const uint64_t seq = index.next_seq++;
  KLAXON_RETURN_IF_ERROR(txn.Put(kTokenLogTable, account, LogId(seq), record));
  const uint64_t hash = HashOf(operation, token);
  index.by_hash[hash].push_back(seq);
  index.order.push_back(Entry{seq, hash, absl::ToUnixNanos(time)});
  txn.OnRollback([this, account = std::string(account), seq, hash] {
    UndoOnIndex(account, [&](AccountIndex& index) {
      RemoveFromHash(index, hash, seq);
      for (auto it = index.order.rbegin(); it != index.order.rend(); ++it) {
        if (it->seq == seq) {
          index.order.erase(std::next(it).base());
          break;
        }
      }
    });
  });
  return absl::OkStatus();
}

void ClientTokens::UndoOnIndex(std::string_view account,
                               absl::FunctionRef<void(AccountIndex&)> undo) {
  MutexLock lock(&mu_);
  auto found = accounts_.find(absl::string_view(account.data(), account.size()));
  if (found != accounts_.end()) undo(found->second);
}

void ClientTokens::RemoveFromHash(AccountIndex& index, uint64_t hash, uint64_t seq) {
  auto it = index.by_hash.find(hash);
  if (it == index.by_hash.end()) return;
  auto& seqs = it->second;
  seqs.erase(std::remove(seqs.begin(), seqs.end(), seq), seqs.end());
  if (seqs.empty()) index.by_hash.erase(it);
}

absl::Status ClientTokens::Sweep(storage::WriteTxn& txn, std::string_view account,
                                 AccountIndex& index, absl::Time now) {
  for (int i = 0; i < kSweepBatch && !index.order.empty(); ++i) {
    const Entry& oldest = index.order.front();
    if (index.order.size() <= max_tokens_ &&
        now - absl::FromUnixNanos(oldest.unix_nanos) < retention_) {
      break;
    }
    KLAXON_RETURN_IF_ERROR(txn.Delete(kTokenLogTable, account, LogId(oldest.seq)));
    const Entry swept = oldest;
    RemoveFromHash(index, swept.hash, swept.seq);
    index.order.pop_front();
    // Rolled back: the row is back, and so is its entry (hooks run newest first, so the entries
    // swept by one call return oldest last, to the front).
    txn.OnRollback([this, account = std::string(account), swept] {
      UndoOnIndex(account, [&](AccountIndex& index) {
        auto& seqs = index.by_hash[swept.hash];
        seqs.insert(std::lower_bound(seqs.begin(), seqs.end(), swept.seq), swept.seq);
        index.order.push_front(swept);
      });
    });
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<json::value>> ClientTokens::Replay(
    storage::WriteTxn& txn, std::string_view account, std::string_view operation,
    const std::optional<std::string>& token, std::string_view fingerprint, absl::Time now) {
  if (!token || token->empty()) return std::optional<json::value>();
  MutexLock lock(&mu_);
  KLAXON_ASSIGN_OR_RETURN(AccountIndex * index, Load(txn, account));
  std::optional<Record> found;
  if (auto it = index->by_hash.find(HashOf(operation, *token)); it != index->by_hash.end()) {
    // Newest first: the record a retry most likely means.
    for (auto seq = it->second.rbegin(); seq != it->second.rend() && !found; ++seq) {
      KLAXON_ASSIGN_OR_RETURN(auto text, txn.Get(kTokenLogTable, account, LogId(*seq)));
      if (!text) continue;  // its transaction rolled back, or the account's data was deleted
      KLAXON_ASSIGN_OR_RETURN(Record r, Decode(*text));
      if (r.op == operation && r.token == *token) found = std::move(r);  // else a hash collision
    }
  }
  if (!found && index->has_legacy) {
    KLAXON_ASSIGN_OR_RETURN(
        auto text, txn.Get(internal::kTokenTable, account, internal::Cat(operation, "/", *token)));
    if (text) {
      KLAXON_ASSIGN_OR_RETURN(found, Decode(*text));
    }
  }
  if (!found || now - found->time >= retention_) return std::optional<json::value>();
  if (found->fp != fingerprint) {
    return Conflict(internal::Cat("The clientToken ", *token,
                                  " was already used with different parameters for ", operation));
  }
  return std::optional<json::value>(std::move(found->result));
}

absl::Status ClientTokens::Warm(storage::Store& store, std::string_view account) {
  return store.Write([&](storage::WriteTxn& txn) {
    MutexLock lock(&mu_);
    return Load(txn, account).status();
  });
}

absl::Status ClientTokens::Save(storage::WriteTxn& txn, std::string_view account,
                                std::string_view operation, const std::optional<std::string>& token,
                                std::string_view fingerprint, const json::value& result,
                                absl::Time now) {
  if (!token || token->empty()) return absl::OkStatus();
  MutexLock lock(&mu_);
  KLAXON_ASSIGN_OR_RETURN(AccountIndex * index, Load(txn, account));
  KLAXON_RETURN_IF_ERROR(Append(txn, account, *index, operation, *token, fingerprint, result, now));
  return Sweep(txn, account, *index, now);
}

}  // namespace klaxon::incidents
