#include "alarms/metric_math.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace klaxon::alarms {

struct Expression::Node {
  enum class Kind { kNumber, kId, kString, kKeyword, kUnary, kBinary, kCall };
  Kind kind = Kind::kNumber;
  double number = 0;
  std::string name;  // id, string, keyword, operator or function name
  std::vector<std::shared_ptr<const Node>> args;
};

namespace {

using Node = Expression::Node;
using NodePtr = std::shared_ptr<const Node>;
using Kind = MathValue::Kind;

absl::string_view Absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

absl::Status Invalid(std::string_view message) {
  return absl::InvalidArgumentError(std::string(message));
}

// ---------------------------------------------------------------------------------------------
// Lexer + parser

struct Token {
  enum class Type { kEnd, kNumber, kIdent, kString, kOp, kLParen, kRParen, kComma };
  Type type = Type::kEnd;
  std::string text;
  double number = 0;
  size_t pos = 0;
};

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  absl::StatusOr<NodePtr> ParseAll() {
    KLAXON_RETURN_IF_ERROR(Next());
    KLAXON_ASSIGN_OR_RETURN(NodePtr node, ParseOr(0));
    if (tok_.type != Token::Type::kEnd) return Error("unexpected '" + tok_.text + "'");
    return node;
  }
  std::vector<std::string> references;
  bool uses_metrics = false;

 private:
  absl::Status Error(const std::string& what) const {
    return Invalid(
        absl::StrCat("Invalid metrics expression at position ", tok_.pos + 1, ": ", what, "."));
  }

  absl::Status Next() {
    size_t i = pos_;
    while (i < text_.size() && std::isspace(static_cast<unsigned char>(text_[i]))) ++i;
    tok_ = Token{};
    tok_.pos = i;
    if (i >= text_.size()) {
      pos_ = i;
      return absl::OkStatus();
    }
    char c = text_[i];
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '.' && i + 1 < text_.size() &&
         std::isdigit(static_cast<unsigned char>(text_[i + 1])))) {
      size_t j = i;
      while (j < text_.size() && (std::isdigit(static_cast<unsigned char>(text_[j])) ||
                                  text_[j] == '.' || text_[j] == 'e' || text_[j] == 'E' ||
                                  ((text_[j] == '+' || text_[j] == '-') && j > i &&
                                   (text_[j - 1] == 'e' || text_[j - 1] == 'E')))) {
        ++j;
      }
      tok_.type = Token::Type::kNumber;
      tok_.text = std::string(text_.substr(i, j - i));
      if (!absl::SimpleAtod(Absl(tok_.text), &tok_.number)) return Error("bad number");
      pos_ = j;
      return absl::OkStatus();
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i;
      while (j < text_.size() &&
             (std::isalnum(static_cast<unsigned char>(text_[j])) || text_[j] == '_')) {
        ++j;
      }
      tok_.type = Token::Type::kIdent;
      tok_.text = std::string(text_.substr(i, j - i));
      pos_ = j;
      return absl::OkStatus();
    }
    if (c == '"' || c == '\'') {
      size_t j = i + 1;
      std::string s;
      while (j < text_.size() && text_[j] != c) {
        if (text_[j] == '\\' && j + 1 < text_.size()) ++j;
        s.push_back(text_[j++]);
      }
      if (j >= text_.size()) return Error("unterminated string");
      tok_.type = Token::Type::kString;
      tok_.text = std::move(s);
      pos_ = j + 1;
      return absl::OkStatus();
    }
    pos_ = i + 1;
    switch (c) {
      case '(':
        tok_.type = Token::Type::kLParen;
        tok_.text = "(";
        return absl::OkStatus();
      case ')':
        tok_.type = Token::Type::kRParen;
        tok_.text = ")";
        return absl::OkStatus();
      case ',':
        tok_.type = Token::Type::kComma;
        tok_.text = ",";
        return absl::OkStatus();
      case '+':
      case '-':
      case '*':
      case '/':
      case '^':
        tok_.type = Token::Type::kOp;
        tok_.text = std::string(1, c);
        return absl::OkStatus();
      case '>':
      case '<':
      case '=':
      case '!':
      case '&':
      case '|': {
        tok_.type = Token::Type::kOp;
        tok_.text = std::string(1, c);
        if (i + 1 < text_.size()) {
          char d = text_[i + 1];
          if ((d == '=' && c != '&' && c != '|') || (c == '&' && d == '&') ||
              (c == '|' && d == '|')) {
            tok_.text.push_back(d);
            pos_ = i + 2;
          }
        }
        if (tok_.text == "=" || tok_.text == "!" || tok_.text == "&" || tok_.text == "|") {
          return Error("unknown operator '" + tok_.text + "'");
        }
        return absl::OkStatus();
      }
      default:
        tok_.text = std::string(1, c);
        return Error("unexpected character '" + tok_.text + "'");
    }
  }

  bool IsOp(std::string_view op) const { return tok_.type == Token::Type::kOp && tok_.text == op; }
  bool IsWord(std::string_view word) const {
    return tok_.type == Token::Type::kIdent && absl::AsciiStrToUpper(Absl(tok_.text)) == word;
  }

  static NodePtr Binary(std::string op, NodePtr a, NodePtr b) {
    auto n = std::make_shared<Node>();
    n->kind = Node::Kind::kBinary;
    n->name = std::move(op);
    n->args = {std::move(a), std::move(b)};
    return n;
  }

  absl::Status CheckDepth(int depth) const {
    if (depth > Expression::kMaxDepth) return Error("expression nested too deeply");
    return absl::OkStatus();
  }

  absl::StatusOr<NodePtr> ParseOr(int depth) {
    KLAXON_RETURN_IF_ERROR(CheckDepth(depth));
    KLAXON_ASSIGN_OR_RETURN(NodePtr left, ParseAnd(depth + 1));
    while (IsOp("||") || IsWord("OR")) {
      KLAXON_RETURN_IF_ERROR(Next());
      KLAXON_ASSIGN_OR_RETURN(NodePtr right, ParseAnd(depth + 1));
      left = Binary("OR", left, right);
    }
    return left;
  }

  absl::StatusOr<NodePtr> ParseAnd(int depth) {
    KLAXON_RETURN_IF_ERROR(CheckDepth(depth));
    KLAXON_ASSIGN_OR_RETURN(NodePtr left, ParseCompare(depth + 1));
    while (IsOp("&&") || IsWord("AND")) {
      KLAXON_RETURN_IF_ERROR(Next());
      KLAXON_ASSIGN_OR_RETURN(NodePtr right, ParseCompare(depth + 1));
      left = Binary("AND", left, right);
    }
    return left;
  }

  absl::StatusOr<NodePtr> ParseCompare(int depth) {
    KLAXON_RETURN_IF_ERROR(CheckDepth(depth));
    KLAXON_ASSIGN_OR_RETURN(NodePtr left, ParseAdd(depth + 1));
    for (std::string_view op : {">", "<", ">=", "<=", "==", "!="}) {
      if (IsOp(op)) {
        std::string name = tok_.text;
        KLAXON_RETURN_IF_ERROR(Next());
        KLAXON_ASSIGN_OR_RETURN(NodePtr right, ParseAdd(depth + 1));
        return Binary(name, left, right);
      }
    }
    return left;
  }

  absl::StatusOr<NodePtr> ParseAdd(int depth) {
    KLAXON_RETURN_IF_ERROR(CheckDepth(depth));
    KLAXON_ASSIGN_OR_RETURN(NodePtr left, ParseMul(depth + 1));
    while (IsOp("+") || IsOp("-")) {
      std::string op = tok_.text;
      KLAXON_RETURN_IF_ERROR(Next());
      KLAXON_ASSIGN_OR_RETURN(NodePtr right, ParseMul(depth + 1));
      left = Binary(op, left, right);
    }
    return left;
  }

  absl::StatusOr<NodePtr> ParseMul(int depth) {
    KLAXON_RETURN_IF_ERROR(CheckDepth(depth));
    KLAXON_ASSIGN_OR_RETURN(NodePtr left, ParseUnary(depth + 1));
    while (IsOp("*") || IsOp("/")) {
      std::string op = tok_.text;
      KLAXON_RETURN_IF_ERROR(Next());
      KLAXON_ASSIGN_OR_RETURN(NodePtr right, ParseUnary(depth + 1));
      left = Binary(op, left, right);
    }
    return left;
  }

  absl::StatusOr<NodePtr> ParseUnary(int depth) {
    KLAXON_RETURN_IF_ERROR(CheckDepth(depth));
    if (IsOp("-") || IsOp("+") || IsWord("NOT")) {
      std::string op = IsWord("NOT") ? "NOT" : tok_.text;
      KLAXON_RETURN_IF_ERROR(Next());
      KLAXON_ASSIGN_OR_RETURN(NodePtr operand, ParseUnary(depth + 1));
      if (op == "+") return operand;
      auto n = std::make_shared<Node>();
      n->kind = Node::Kind::kUnary;
      n->name = op;
      n->args = {std::move(operand)};
      return NodePtr(n);
    }
    return ParsePower(depth + 1);
  }

  absl::StatusOr<NodePtr> ParsePower(int depth) {
    KLAXON_RETURN_IF_ERROR(CheckDepth(depth));
    KLAXON_ASSIGN_OR_RETURN(NodePtr base, ParsePrimary(depth + 1));
    if (IsOp("^")) {
      KLAXON_RETURN_IF_ERROR(Next());
      KLAXON_ASSIGN_OR_RETURN(NodePtr exponent, ParseUnary(depth + 1));
      return Binary("^", base, exponent);
    }
    return base;
  }

  absl::StatusOr<NodePtr> ParsePrimary(int depth) {
    KLAXON_RETURN_IF_ERROR(CheckDepth(depth));
    auto n = std::make_shared<Node>();
    switch (tok_.type) {
      case Token::Type::kNumber:
        n->kind = Node::Kind::kNumber;
        n->number = tok_.number;
        KLAXON_RETURN_IF_ERROR(Next());
        return NodePtr(n);
      case Token::Type::kString:
        n->kind = Node::Kind::kString;
        n->name = tok_.text;
        KLAXON_RETURN_IF_ERROR(Next());
        return NodePtr(n);
      case Token::Type::kLParen: {
        KLAXON_RETURN_IF_ERROR(Next());
        KLAXON_ASSIGN_OR_RETURN(NodePtr inner, ParseOr(depth + 1));
        if (tok_.type != Token::Type::kRParen) return Error("expected ')'");
        KLAXON_RETURN_IF_ERROR(Next());
        return inner;
      }
      case Token::Type::kIdent: {
        std::string name = tok_.text;
        KLAXON_RETURN_IF_ERROR(Next());
        if (tok_.type == Token::Type::kLParen) {
          n->kind = Node::Kind::kCall;
          n->name = absl::AsciiStrToUpper(Absl(name));
          if (n->name == "METRICS") uses_metrics = true;
          KLAXON_RETURN_IF_ERROR(Next());
          if (tok_.type != Token::Type::kRParen) {
            while (true) {
              KLAXON_ASSIGN_OR_RETURN(NodePtr arg, ParseOr(depth + 1));
              n->args.push_back(std::move(arg));
              if (tok_.type == Token::Type::kComma) {
                KLAXON_RETURN_IF_ERROR(Next());
                continue;
              }
              break;
            }
          }
          if (tok_.type != Token::Type::kRParen) return Error("expected ')' or ','");
          KLAXON_RETURN_IF_ERROR(Next());
          return NodePtr(n);
        }
        std::string upper = absl::AsciiStrToUpper(Absl(name));
        if (upper == "REPEAT" || upper == "LINEAR") {
          n->kind = Node::Kind::kKeyword;
          n->name = upper;
          return NodePtr(n);
        }
        n->kind = Node::Kind::kId;
        n->name = name;
        if (std::find(references.begin(), references.end(), name) == references.end()) {
          references.push_back(name);
        }
        return NodePtr(n);
      }
      default:
        return Error(tok_.type == Token::Type::kEnd ? "unexpected end of expression"
                                                    : "unexpected '" + tok_.text + "'");
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
  Token tok_;
};

// ---------------------------------------------------------------------------------------------
// Evaluation helpers

std::optional<double> Clean(double v) {
  if (std::isnan(v) || std::isinf(v)) return std::nullopt;
  return v;
}

MathValue Scalar(double v) {
  MathValue m;
  m.kind = Kind::kScalar;
  m.scalar = v;
  return m;
}

MathValue SeriesValue(TimeSeries s) {
  MathValue m;
  m.kind = Kind::kSeries;
  m.series = std::move(s);
  return m;
}

using UnaryFn = std::function<double(double)>;
using BinaryFn = std::function<double(double, double)>;

TimeSeries MapSeries(const TimeSeries& s, const UnaryFn& fn) {
  TimeSeries out(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i]) out[i] = Clean(fn(*s[i]));
  }
  return out;
}

MathValue MapValue(const MathValue& v, const UnaryFn& fn) {
  switch (v.kind) {
    case Kind::kScalar:
      return Scalar(fn(v.scalar));
    case Kind::kSeries:
      return SeriesValue(MapSeries(v.series, fn));
    case Kind::kArray: {
      MathValue out = v;
      for (auto& s : out.array) s = MapSeries(s, fn);
      return out;
    }
  }
  return v;
}

TimeSeries Broadcast(const MathValue& v, int n) {
  if (v.kind == Kind::kSeries) return v.series;
  TimeSeries s(n);
  std::optional<double> c = Clean(v.scalar);
  for (auto& x : s) x = c;
  return s;
}

TimeSeries ZipSeries(const TimeSeries& a, const TimeSeries& b, const BinaryFn& fn) {
  TimeSeries out(std::min(a.size(), b.size()));
  for (size_t i = 0; i < out.size(); ++i) {
    if (a[i] && b[i]) out[i] = Clean(fn(*a[i], *b[i]));
  }
  return out;
}

absl::StatusOr<MathValue> Combine(const MathValue& a, const MathValue& b, const BinaryFn& fn,
                                  int n) {
  if (a.kind == Kind::kArray && b.kind == Kind::kArray) {
    return Invalid("Invalid metrics expression: an operation between two arrays of time series.");
  }
  if (a.kind == Kind::kArray || b.kind == Kind::kArray) {
    const MathValue& arr = a.kind == Kind::kArray ? a : b;
    const MathValue& other = a.kind == Kind::kArray ? b : a;
    TimeSeries o = Broadcast(other, n);
    MathValue out = arr;
    for (auto& s : out.array)
      s = a.kind == Kind::kArray ? ZipSeries(s, o, fn) : ZipSeries(o, s, fn);
    return out;
  }
  if (a.kind == Kind::kScalar && b.kind == Kind::kScalar) return Scalar(fn(a.scalar, b.scalar));
  return SeriesValue(ZipSeries(Broadcast(a, n), Broadcast(b, n), fn));
}

// Reduction over values (skipping missing); nullopt when none.
std::optional<double> Reduce(const std::string& fn, const std::vector<double>& xs) {
  if (xs.empty()) return std::nullopt;
  if (fn == "SUM") {
    double s = 0;
    for (double x : xs) s += x;
    return s;
  }
  if (fn == "AVG") {
    double s = 0;
    for (double x : xs) s += x;
    return s / xs.size();
  }
  if (fn == "MIN") return *std::min_element(xs.begin(), xs.end());
  if (fn == "MAX") return *std::max_element(xs.begin(), xs.end());
  if (fn == "STDDEV") {
    double mean = 0;
    for (double x : xs) mean += x;
    mean /= xs.size();
    double var = 0;
    for (double x : xs) var += (x - mean) * (x - mean);
    return std::sqrt(var / xs.size());
  }
  return std::nullopt;
}

bool Truthy(double v) { return v != 0; }

absl::StatusOr<MathValue> Eval(const Node& node, const Expression::Context& ctx) {
  const int n = ctx.n;
  switch (node.kind) {
    case Node::Kind::kNumber:
      return Scalar(node.number);
    case Node::Kind::kString:
    case Node::Kind::kKeyword:
      return Invalid(absl::StrCat("Invalid metrics expression: unexpected '", node.name, "'."));
    case Node::Kind::kId:
      return ctx.lookup(node.name);
    case Node::Kind::kUnary: {
      KLAXON_ASSIGN_OR_RETURN(MathValue v, Eval(*node.args[0], ctx));
      if (node.name == "NOT") return MapValue(v, [](double x) { return Truthy(x) ? 0.0 : 1.0; });
      return MapValue(v, [](double x) { return -x; });
    }
    case Node::Kind::kBinary: {
      KLAXON_ASSIGN_OR_RETURN(MathValue a, Eval(*node.args[0], ctx));
      KLAXON_ASSIGN_OR_RETURN(MathValue b, Eval(*node.args[1], ctx));
      const std::string& op = node.name;
      BinaryFn fn;
      if (op == "+") fn = [](double x, double y) { return x + y; };
      if (op == "-") fn = [](double x, double y) { return x - y; };
      if (op == "*") fn = [](double x, double y) { return x * y; };
      if (op == "/") fn = [](double x, double y) { return x / y; };
      if (op == "^") fn = [](double x, double y) { return std::pow(x, y); };
      if (op == ">") fn = [](double x, double y) { return x > y ? 1.0 : 0.0; };
      if (op == "<") fn = [](double x, double y) { return x < y ? 1.0 : 0.0; };
      if (op == ">=") fn = [](double x, double y) { return x >= y ? 1.0 : 0.0; };
      if (op == "<=") fn = [](double x, double y) { return x <= y ? 1.0 : 0.0; };
      if (op == "==") fn = [](double x, double y) { return x == y ? 1.0 : 0.0; };
      if (op == "!=") fn = [](double x, double y) { return x != y ? 1.0 : 0.0; };
      if (op == "AND") fn = [](double x, double y) { return Truthy(x) && Truthy(y) ? 1.0 : 0.0; };
      if (op == "OR") fn = [](double x, double y) { return Truthy(x) || Truthy(y) ? 1.0 : 0.0; };
      if (!fn) return Invalid(absl::StrCat("Invalid metrics expression: operator ", op, "."));
      return Combine(a, b, fn, n);
    }
    case Node::Kind::kCall:
      break;
  }

  const std::string& fn = node.name;
  const auto& args = node.args;
  auto arity = [&](size_t lo, size_t hi) -> absl::Status {
    if (args.size() < lo || args.size() > hi) {
      return Invalid(absl::StrCat("Invalid metrics expression: ", fn, " takes ", lo,
                                  lo == hi ? "" : absl::StrCat(" to ", hi), " argument",
                                  hi == 1 ? "" : "s", "."));
    }
    return absl::OkStatus();
  };

  if (fn == "METRICS") {
    KLAXON_RETURN_IF_ERROR(arity(0, 1));
    std::string filter;
    if (args.size() == 1) {
      if (args[0]->kind != Node::Kind::kString) {
        return Invalid("Invalid metrics expression: METRICS takes a string filter.");
      }
      filter = args[0]->name;
    }
    MathValue out;
    out.kind = Kind::kArray;
    for (const auto& [id, label, series] : ctx.metrics) {
      if (!filter.empty() && id.find(filter) == std::string::npos &&
          label.find(filter) == std::string::npos) {
        continue;
      }
      out.array.push_back(*series);
      out.labels.push_back(label);
    }
    return out;
  }

  if (fn == "PERIOD") {
    KLAXON_RETURN_IF_ERROR(arity(1, 1));
    return Scalar(static_cast<double>(ctx.period_seconds));
  }

  static const std::map<std::string, UnaryFn> kElementwise = {
      {"ABS", [](double x) { return std::fabs(x); }},
      {"CEIL", [](double x) { return std::ceil(x); }},
      {"FLOOR", [](double x) { return std::floor(x); }},
      {"SQRT", [](double x) { return std::sqrt(x); }},
      {"LOG", [](double x) { return std::log(x); }},
      {"LOG10", [](double x) { return std::log10(x); }},
      {"EXP", [](double x) { return std::exp(x); }},
  };
  if (auto it = kElementwise.find(fn); it != kElementwise.end()) {
    KLAXON_RETURN_IF_ERROR(arity(1, 1));
    KLAXON_ASSIGN_OR_RETURN(MathValue v, Eval(*args[0], ctx));
    return MapValue(v, it->second);
  }

  if (fn == "SUM" || fn == "AVG" || fn == "MIN" || fn == "MAX" || fn == "STDDEV") {
    // Several arguments act like one array: SUM([m1, m2]) is written SUM(m1, m2) here too.
    std::vector<MathValue> values;
    for (const auto& a : args) {
      KLAXON_ASSIGN_OR_RETURN(MathValue v, Eval(*a, ctx));
      values.push_back(std::move(v));
    }
    if (values.empty()) return Invalid(absl::StrCat("Invalid metrics expression: ", fn, "()."));
    if (values.size() == 1 && values[0].kind != Kind::kArray) {
      const MathValue& v = values[0];
      if (v.kind == Kind::kScalar) return v;
      std::vector<double> xs;
      for (const auto& x : v.series) {
        if (x) xs.push_back(*x);
      }
      return Scalar(Reduce(fn, xs).value_or(std::nan("")));
    }
    std::vector<TimeSeries> members;
    for (const MathValue& v : values) {
      if (v.kind == Kind::kArray) {
        members.insert(members.end(), v.array.begin(), v.array.end());
      } else {
        members.push_back(Broadcast(v, n));
      }
    }
    TimeSeries out(n);
    for (int i = 0; i < n; ++i) {
      std::vector<double> xs;
      for (const auto& m : members) {
        if (i < static_cast<int>(m.size()) && m[i]) xs.push_back(*m[i]);
      }
      if (auto r = Reduce(fn, xs)) out[i] = Clean(*r);
    }
    return SeriesValue(std::move(out));
  }

  if (fn == "FIRST" || fn == "LAST") {
    KLAXON_RETURN_IF_ERROR(arity(1, 1));
    KLAXON_ASSIGN_OR_RETURN(MathValue v, Eval(*args[0], ctx));
    if (v.kind != Kind::kArray) return v;
    if (v.array.empty()) return SeriesValue(TimeSeries(n));
    return SeriesValue(fn == "FIRST" ? v.array.front() : v.array.back());
  }

  if (fn == "FILL") {
    KLAXON_RETURN_IF_ERROR(arity(2, 2));
    KLAXON_ASSIGN_OR_RETURN(MathValue v, Eval(*args[0], ctx));
    std::function<TimeSeries(const TimeSeries&)> fill;
    if (args[1]->kind == Node::Kind::kKeyword && args[1]->name == "REPEAT") {
      fill = [](const TimeSeries& s) {
        TimeSeries out = s;
        std::optional<double> last;
        for (auto& x : out) {
          if (x) {
            last = x;
          } else {
            x = last;
          }
        }
        return out;
      };
    } else if (args[1]->kind == Node::Kind::kKeyword && args[1]->name == "LINEAR") {
      fill = [](const TimeSeries& s) {
        TimeSeries out = s;
        int prev = -1;
        for (int i = 0; i < static_cast<int>(s.size()); ++i) {
          if (!s[i]) continue;
          if (prev >= 0 && i - prev > 1) {
            for (int k = prev + 1; k < i; ++k) {
              out[k] = *s[prev] + (*s[i] - *s[prev]) * (k - prev) / (i - prev);
            }
          }
          prev = i;
        }
        return out;
      };
    } else {
      KLAXON_ASSIGN_OR_RETURN(MathValue with, Eval(*args[1], ctx));
      if (with.kind == Kind::kArray) {
        return Invalid("Invalid metrics expression: FILL takes a value, REPEAT or LINEAR.");
      }
      TimeSeries w = Broadcast(with, n);
      fill = [w](const TimeSeries& s) {
        TimeSeries out = s;
        for (size_t i = 0; i < out.size(); ++i) {
          if (!out[i] && i < w.size()) out[i] = w[i];
        }
        return out;
      };
    }
    if (v.kind == Kind::kScalar) return v;
    if (v.kind == Kind::kSeries) return SeriesValue(fill(v.series));
    for (auto& s : v.array) s = fill(s);
    return v;
  }

  if (fn == "IF") {
    KLAXON_RETURN_IF_ERROR(arity(2, 3));
    KLAXON_ASSIGN_OR_RETURN(MathValue c, Eval(*args[0], ctx));
    KLAXON_ASSIGN_OR_RETURN(MathValue a, Eval(*args[1], ctx));
    MathValue b = Scalar(std::nan(""));
    if (args.size() == 3) {
      KLAXON_ASSIGN_OR_RETURN(b, Eval(*args[2], ctx));
    }
    if (c.kind == Kind::kArray || a.kind == Kind::kArray || b.kind == Kind::kArray) {
      return Invalid("Invalid metrics expression: IF does not take arrays of time series.");
    }
    if (c.kind == Kind::kScalar && a.kind == Kind::kScalar && b.kind == Kind::kScalar) {
      return Scalar(Truthy(c.scalar) ? a.scalar : b.scalar);
    }
    TimeSeries cs = Broadcast(c, n), as = Broadcast(a, n), bs = Broadcast(b, n);
    TimeSeries out(n);
    for (int i = 0; i < n; ++i) {
      if (!cs[i]) continue;
      out[i] = Truthy(*cs[i]) ? as[i] : bs[i];
    }
    return SeriesValue(std::move(out));
  }

  if (fn == "DIFF" || fn == "RATE" || fn == "RUNNING_SUM") {
    KLAXON_RETURN_IF_ERROR(arity(1, 1));
    KLAXON_ASSIGN_OR_RETURN(MathValue v, Eval(*args[0], ctx));
    auto apply = [&](const TimeSeries& s) {
      TimeSeries out(s.size());
      if (fn == "RUNNING_SUM") {
        double sum = 0;
        for (size_t i = 0; i < s.size(); ++i) {
          if (s[i]) {
            sum += *s[i];
            out[i] = sum;
          }
        }
        return out;
      }
      int prev = -1;
      for (int i = 0; i < static_cast<int>(s.size()); ++i) {
        if (!s[i]) continue;
        if (prev >= 0) {
          double d = *s[i] - *s[prev];
          out[i] = fn == "DIFF" ? d : d / (static_cast<double>(i - prev) * ctx.period_seconds);
        }
        prev = i;
      }
      return out;
    };
    if (v.kind == Kind::kScalar) return Invalid(absl::StrCat(fn, " takes a time series."));
    if (v.kind == Kind::kSeries) return SeriesValue(apply(v.series));
    for (auto& s : v.array) s = apply(s);
    return v;
  }

  return Invalid(absl::StrCat("Invalid metrics expression: unknown function ", fn, "."));
}

bool ValidId(const std::string& id) {
  if (id.empty() || !std::islower(static_cast<unsigned char>(id[0]))) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<Expression> Expression::Parse(std::string_view text) {
  Parser parser(text);
  KLAXON_ASSIGN_OR_RETURN(NodePtr root, parser.ParseAll());
  Expression e;
  e.root_ = std::move(root);
  e.references_ = std::move(parser.references);
  e.uses_metrics_ = parser.uses_metrics;
  e.text_ = std::string(text);
  return e;
}

absl::StatusOr<MathValue> Expression::Evaluate(const Context& ctx) const {
  return Eval(*root_, ctx);
}

absl::StatusOr<std::map<std::string, MathValue>> EvaluateQueries(
    const std::vector<MetricDataQuery>& queries, int n, int64_t period_seconds,
    const MetricFetch& fetch) {
  std::map<std::string, const MetricDataQuery*> by_id;
  for (const MetricDataQuery& q : queries) {
    if (!by_id.emplace(q.id, &q).second) {
      return Invalid(absl::StrCat("The value ", q.id, " for field Id is not unique."));
    }
  }
  std::map<std::string, MathValue> results;
  std::map<std::string, TimeSeries> metric_series;
  Expression::Context ctx;
  ctx.n = n;
  ctx.period_seconds = period_seconds;
  for (const MetricDataQuery& q : queries) {
    if (!q.metric_stat) continue;
    TimeSeries s = fetch(*q.metric_stat);
    s.resize(n);
    metric_series[q.id] = s;
    results[q.id] = SeriesValue(std::move(s));
  }
  for (const MetricDataQuery& q : queries) {
    if (!q.metric_stat) continue;
    ctx.metrics.emplace_back(q.id, q.label.value_or(q.metric_stat->metric.name),
                             &metric_series[q.id]);
  }
  std::set<std::string> visiting;
  std::function<absl::StatusOr<MathValue>(const std::string&)> lookup =
      [&](const std::string& id) -> absl::StatusOr<MathValue> {
    if (auto it = results.find(id); it != results.end()) return it->second;
    auto q = by_id.find(id);
    if (q == by_id.end() || !q->second->expression) {
      return Invalid(absl::StrCat("Invalid metrics expression: unknown id '", id, "'."));
    }
    if (!visiting.insert(id).second) {
      return Invalid(absl::StrCat("Invalid metrics expression: circular reference to '", id, "'."));
    }
    KLAXON_ASSIGN_OR_RETURN(Expression e, Expression::Parse(*q->second->expression));
    absl::StatusOr<MathValue> v = e.Evaluate(ctx);
    visiting.erase(id);
    if (!v.ok()) return v.status();
    results[id] = *v;
    return v;
  };
  ctx.lookup = lookup;
  for (const MetricDataQuery& q : queries) {
    if (q.expression) KLAXON_RETURN_IF_ERROR(lookup(q.id).status());
  }
  return results;
}

absl::Status ValidateAlarmQueries(const std::vector<MetricDataQuery>& queries) {
  std::set<std::string> ids;
  int returned = 0;
  for (const MetricDataQuery& q : queries) {
    if (!ValidId(q.id)) {
      return Invalid(absl::StrCat("Invalid id '", q.id,
                                  "': an id must start with a lowercase letter and contain only "
                                  "letters, numbers and underscores."));
    }
    if (!ids.insert(q.id).second) {
      return Invalid(absl::StrCat("The value ", q.id, " for field Id is not unique."));
    }
    if (q.metric_stat.has_value() == q.expression.has_value()) {
      return Invalid(
          absl::StrCat("Exactly one element of MetricStat and Expression must be "
                       "specified for the metric with id ",
                       q.id, "."));
    }
    if (q.return_data) ++returned;
  }
  if (returned != 1) {
    return Invalid(
        "Metrics list must contain exactly one metric matching the ReturnData "
        "parameter");
  }
  for (const MetricDataQuery& q : queries) {
    if (!q.expression) continue;
    KLAXON_ASSIGN_OR_RETURN(Expression e, Expression::Parse(*q.expression));
    for (const std::string& ref : e.references()) {
      if (!ids.count(ref)) {
        return Invalid(
            absl::StrCat("Invalid metrics expression in ", q.id, ": unknown id '", ref, "'."));
      }
      if (ref == q.id) {
        return Invalid(absl::StrCat("Invalid metrics expression in ", q.id,
                                    ": an expression cannot reference itself."));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace klaxon::alarms
