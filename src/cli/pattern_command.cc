#include "cli/pattern_command.h"

#include <fstream>
#include <optional>
#include <sstream>

#include "absl/strings/string_view.h"
#include "events/pattern/interpreter.h"
#include "events/pattern/json.h"
#include "events/pattern/pattern.h"
#include "events/pattern/rule_set.h"

namespace klaxon::cli {
namespace {

namespace ep = klaxon::events::pattern;

constexpr int kUsage = 64;

const char kHelp[] =
    "usage: klaxon pattern test --pattern P --event E\n"
    "       klaxon pattern test --jsonl FILE\n"
    "       klaxon pattern explain --pattern P --event E\n"
    "P and E are JSON text or @FILE.\n";

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Resolves "@FILE" arguments.
std::optional<std::string> Argument(const std::string& value, std::ostream& err) {
  if (value.empty() || value[0] != '@') return value;
  auto text = ReadFile(value.substr(1));
  if (!text) err << "cannot read " << value.substr(1) << "\n";
  return text;
}

std::string OneLine(absl::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c == '\n' || c == '\t' || c == '\r') c = ' ';
  }
  return out;
}

int RunJsonl(const std::string& path, std::ostream& out, std::ostream& err) {
  std::ifstream in(path);
  if (!in) {
    err << "cannot read " << path << "\n";
    return kUsage;
  }
  std::string line;
  int bad = 0;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto doc = ep::internal::ParseJson(line);
    if (!doc.ok() || doc->type != ep::internal::JsonType::kObject) {
      err << "malformed line: " << OneLine(absl::string_view(line).substr(0, 80)) << "\n";
      ++bad;
      continue;
    }
    std::string name, pattern, event;
    for (const auto& [key, v] : doc->members) {
      if (key == "name") name = v.text;
      if (key == "pattern") pattern = v.text;
      if (key == "event") event = v.text;
    }
    auto p = ep::ParsePattern(pattern, ep::LibraryParseOptions());
    if (!p.ok()) {
      out << name << "\tinvalid\t" << OneLine(p.status().message()) << "\n";
      continue;
    }
    auto m = ep::MatchesOne(*p, event);
    if (!m.ok()) {
      // The reference reports event errors the same way (e.g. a bad escape in the event).
      auto r = ep::internal::InterpretJson(*p, event, nullptr);
      out << name << "\tinvalid\t" << OneLine(r.ok() ? m.status().message() : r.status().message())
          << "\n";
      continue;
    }
    out << name << "\t" << (*m ? "true" : "false") << "\n";
  }
  return bad == 0 ? 0 : 2;
}

}  // namespace

int RunPatternCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    (args.empty() ? err : out) << kHelp;
    return args.empty() ? kUsage : 0;
  }
  const std::string& verb = args[0];
  if (verb != "test" && verb != "explain") {
    err << "unknown subcommand: " << verb << "\n" << kHelp;
    return kUsage;
  }
  std::optional<std::string> pattern_arg, event_arg, jsonl;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto next = [&]() -> std::optional<std::string> {
      if (i + 1 >= args.size()) return std::nullopt;
      return args[++i];
    };
    std::optional<std::string>* slot = a == "--pattern" ? &pattern_arg
                                       : a == "--event" ? &event_arg
                                       : a == "--jsonl" ? &jsonl
                                                        : nullptr;
    if (slot == nullptr) {
      err << "unknown option: " << a << "\n" << kHelp;
      return kUsage;
    }
    *slot = next();
    if (!*slot) {
      err << a << " needs a value\n";
      return kUsage;
    }
  }
  if (jsonl) {
    if (verb != "test" || pattern_arg || event_arg) {
      err << "--jsonl is used alone with `test`\n" << kHelp;
      return kUsage;
    }
    return RunJsonl(*jsonl, out, err);
  }
  if (!pattern_arg || !event_arg) {
    err << "--pattern and --event are required\n" << kHelp;
    return kUsage;
  }
  auto pattern_text = Argument(*pattern_arg, err);
  auto event_text = Argument(*event_arg, err);
  if (!pattern_text || !event_text) return kUsage;
  auto p = ep::ParsePattern(*pattern_text);
  if (!p.ok()) {
    out << p.status().message() << "\n";
    return 2;
  }
  if (verb == "test") {
    auto m = ep::MatchesOne(*p, *event_text);
    if (!m.ok()) {
      out << "invalid event: " << m.status().message() << "\n";
      return 2;
    }
    out << (*m ? "true" : "false") << "\n";
    return *m ? 0 : 1;
  }
  auto e = ep::Explain(*p, *event_text);
  if (!e.ok()) {
    out << "invalid event: " << e.status().message() << "\n";
    return 2;
  }
  out << e->ToString();
  return e->matched ? 0 : 1;
}

}  // namespace klaxon::cli
