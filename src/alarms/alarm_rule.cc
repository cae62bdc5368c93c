#include "alarms/alarm_rule.h"

#include <algorithm>
#include <cctype>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace klaxon::alarms {

struct AlarmRule::Node {
  enum class Kind { kTrue, kFalse, kState, kNot, kAnd, kOr };
  Kind kind = Kind::kTrue;
  StateValue state = StateValue::kAlarm;
  std::string alarm;
  std::shared_ptr<const Node> a, b;
};

namespace {

using Node = AlarmRule::Node;
using NodePtr = std::shared_ptr<const Node>;

class RuleParser {
 public:
  explicit RuleParser(std::string_view text) : text_(text) {}

  absl::StatusOr<NodePtr> Parse() {
    KLAXON_ASSIGN_OR_RETURN(NodePtr root, ParseOr(0));
    SkipSpace();
    if (pos_ != text_.size()) return Error("unexpected text");
    return root;
  }
  std::vector<std::string> references;

 private:
  absl::Status Error(std::string_view what) const {
    return absl::InvalidArgumentError(
        absl::StrCat("Error in AlarmRule at position ", pos_ + 1, ": ",
                     absl::string_view(what.data(), what.size()), "."));
  }

  void SkipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }

  // Consumes `word` when it is next (as a whole word).
  bool Word(std::string_view word) {
    SkipSpace();
    if (text_.substr(pos_, word.size()) != word) return false;
    size_t end = pos_ + word.size();
    if (end < text_.size() &&
        (std::isalnum(static_cast<unsigned char>(text_[end])) || text_[end] == '_')) {
      return false;
    }
    pos_ = end;
    return true;
  }

  bool Char(char c) {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  absl::Status Depth(int depth) const {
    if (depth > AlarmRule::kMaxDepth) return Error("rule nested too deeply");
    return absl::OkStatus();
  }

  static NodePtr Make(Node::Kind kind, NodePtr a = nullptr, NodePtr b = nullptr) {
    auto n = std::make_shared<Node>();
    n->kind = kind;
    n->a = std::move(a);
    n->b = std::move(b);
    return n;
  }

  absl::StatusOr<NodePtr> ParseOr(int depth) {
    KLAXON_RETURN_IF_ERROR(Depth(depth));
    KLAXON_ASSIGN_OR_RETURN(NodePtr left, ParseAnd(depth + 1));
    while (Word("OR")) {
      KLAXON_ASSIGN_OR_RETURN(NodePtr right, ParseAnd(depth + 1));
      left = Make(Node::Kind::kOr, left, right);
    }
    return left;
  }

  absl::StatusOr<NodePtr> ParseAnd(int depth) {
    KLAXON_RETURN_IF_ERROR(Depth(depth));
    KLAXON_ASSIGN_OR_RETURN(NodePtr left, ParseNot(depth + 1));
    while (Word("AND")) {
      KLAXON_ASSIGN_OR_RETURN(NodePtr right, ParseNot(depth + 1));
      left = Make(Node::Kind::kAnd, left, right);
    }
    return left;
  }

  absl::StatusOr<NodePtr> ParseNot(int depth) {
    KLAXON_RETURN_IF_ERROR(Depth(depth));
    if (Word("NOT")) {
      KLAXON_ASSIGN_OR_RETURN(NodePtr inner, ParseNot(depth + 1));
      return Make(Node::Kind::kNot, inner);
    }
    return ParsePrimary(depth + 1);
  }

  absl::StatusOr<NodePtr> ParsePrimary(int depth) {
    KLAXON_RETURN_IF_ERROR(Depth(depth));
    if (Char('(')) {
      KLAXON_ASSIGN_OR_RETURN(NodePtr inner, ParseOr(depth + 1));
      if (!Char(')')) return Error("expected ')'");
      return inner;
    }
    if (Word("TRUE")) return Make(Node::Kind::kTrue);
    if (Word("FALSE")) return Make(Node::Kind::kFalse);
    StateValue state;
    if (Word("ALARM")) {
      state = StateValue::kAlarm;
    } else if (Word("OK")) {
      state = StateValue::kOk;
    } else if (Word("INSUFFICIENT_DATA")) {
      state = StateValue::kInsufficientData;
    } else {
      return Error(pos_ >= text_.size()
                       ? "unexpected end of rule"
                       : "expected ALARM, OK, INSUFFICIENT_DATA, TRUE, FALSE, NOT or '('");
    }
    if (!Char('(')) return Error("expected '('");
    SkipSpace();
    std::string name;
    if (pos_ < text_.size() && text_[pos_] == '"') {
      ++pos_;
      while (pos_ < text_.size() && text_[pos_] != '"') {
        if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) ++pos_;
        name.push_back(text_[pos_++]);
      }
      if (pos_ >= text_.size()) return Error("unterminated alarm name");
      ++pos_;
      if (!Char(')')) return Error("expected ')'");
    } else {
      size_t close = text_.find(')', pos_);
      if (close == std::string_view::npos) return Error("expected ')'");
      name = std::string(text_.substr(pos_, close - pos_));
      while (!name.empty() && std::isspace(static_cast<unsigned char>(name.back()))) {
        name.pop_back();
      }
      if (name.find('(') != std::string::npos) return Error("unexpected '(' in an alarm name");
      pos_ = close + 1;
    }
    if (name.empty()) return Error("empty alarm name");
    if (std::find(references.begin(), references.end(), name) == references.end()) {
      references.push_back(name);
    }
    auto n = std::make_shared<Node>();
    n->kind = Node::Kind::kState;
    n->state = state;
    n->alarm = std::move(name);
    return NodePtr(n);
  }

  std::string_view text_;
  size_t pos_ = 0;
};

bool Eval(const Node& n,
          const std::function<std::optional<StateValue>(const std::string&)>& state_of) {
  switch (n.kind) {
    case Node::Kind::kTrue:
      return true;
    case Node::Kind::kFalse:
      return false;
    case Node::Kind::kState: {
      std::optional<StateValue> s = state_of(n.alarm);
      return s && *s == n.state;
    }
    case Node::Kind::kNot:
      return !Eval(*n.a, state_of);
    case Node::Kind::kAnd:
      return Eval(*n.a, state_of) && Eval(*n.b, state_of);
    case Node::Kind::kOr:
      return Eval(*n.a, state_of) || Eval(*n.b, state_of);
  }
  return false;
}

}  // namespace

absl::StatusOr<AlarmRule> AlarmRule::Parse(std::string_view text) {
  RuleParser parser(text);
  KLAXON_ASSIGN_OR_RETURN(NodePtr root, parser.Parse());
  AlarmRule rule;
  rule.root_ = std::move(root);
  rule.references_ = std::move(parser.references);
  return rule;
}

bool AlarmRule::Evaluate(
    const std::function<std::optional<StateValue>(const std::string&)>& state_of) const {
  return Eval(*root_, state_of);
}

std::optional<std::string> ResolveAlarmReference(const std::string& ref, std::string_view region,
                                                 std::string_view account) {
  constexpr std::string_view kPrefix = "arn:aws:cloudwatch:";
  if (ref.rfind(kPrefix, 0) != 0) return ref;
  std::string expected = absl::StrCat(absl::string_view(kPrefix.data(), kPrefix.size()),
                                      absl::string_view(region.data(), region.size()), ":",
                                      absl::string_view(account.data(), account.size()), ":alarm:");
  if (ref.rfind(expected, 0) != 0 || ref.size() == expected.size()) return std::nullopt;
  return ref.substr(expected.size());
}

}  // namespace klaxon::alarms
