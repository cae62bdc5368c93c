// libFuzzer target: the XML escaping of CloudWatch's query protocol (awsQuery answers in XML),
// checked by a real XML parser (expat), both ways a string reaches a response:
//
//   1. Any UTF-8 text the service holds (an alarm name, a description, an error message) is
//      encoded by QueryCodec::EncodeOutput / EncodeError; the document must parse, and the
//      element text must read back as the text itself — except the characters XML 1.0 cannot
//      carry at all (C0 controls other than tab, LF and CR; U+FFFE, U+FFFF), which must read back
//      as U+FFFD.
//   2. Any bytes a client sends as a form value (percent-encoded): what QueryCodec::DecodeInput
//      accepts must be valid UTF-8 (the encoder's precondition) and read back from the response;
//      what it refuses gives an error document that must parse too.
//
// Input: one byte choosing the carrier (bit 0: 0 = output member, 1 = error message; bit 1:
// path 2), then the string. The corpus seeds are in fuzz/corpus/xml_escape.
#include <expat.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "api/model/model_registry.h"
#include "api/model/validator.h"
#include "api/protocol/query.h"
#include "boost/json.hpp"
#include "common/status.h"

namespace {

namespace json = boost::json;
using klaxon::api::HttpRequest;
using klaxon::api::HttpResponse;

// Decodes UTF-8; false for anything that is not well-formed UTF-8 (overlongs, surrogates,
// above U+10FFFF).
bool DecodeUtf8(std::string_view s, std::vector<uint32_t>* out) {
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    int n = 0;
    uint32_t cp = 0;
    if (b < 0x80) {
      cp = b;
    } else if ((b & 0xE0) == 0xC0) {
      n = 1;
      cp = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
      n = 2;
      cp = b & 0x0F;
    } else if ((b & 0xF8) == 0xF0) {
      n = 3;
      cp = b & 0x07;
    } else {
      return false;
    }
    for (int k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return false;
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    out->push_back(cp);
    i += n + 1;
  }
  return true;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// What a parser must read back for `text`: the characters XML 1.0 forbids become U+FFFD.
std::string Expected(const std::vector<uint32_t>& text) {
  std::string out;
  for (uint32_t cp : text) {
    const bool allowed = cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
                         (cp >= 0xE000 && cp <= 0xFFFD) || cp >= 0x10000;
    AppendUtf8(allowed ? cp : 0xFFFD, &out);
  }
  return out;
}

// The texts of every element named `element` in `xml`; false if expat finds it malformed.
struct Collector {
  std::string element;
  int depth_in = 0;
  std::vector<std::string> texts;
};

bool ParseXml(const std::string& xml, const std::string& element, std::vector<std::string>* texts,
              std::string* error) {
  XML_Parser parser = XML_ParserCreate("UTF-8");
  Collector c;
  c.element = element;
  XML_SetUserData(parser, &c);
  XML_SetElementHandler(
      parser,
      [](void* data, const XML_Char* name, const XML_Char**) {
        auto* c = static_cast<Collector*>(data);
        if (c->depth_in > 0) {
          ++c->depth_in;
        } else if (c->element == name) {
          c->depth_in = 1;
          c->texts.emplace_back();
        }
      },
      [](void* data, const XML_Char*) {
        auto* c = static_cast<Collector*>(data);
        if (c->depth_in > 0) --c->depth_in;
      });
  XML_SetCharacterDataHandler(parser, [](void* data, const XML_Char* s, int len) {
    auto* c = static_cast<Collector*>(data);
    if (c->depth_in == 1) c->texts.back().append(s, len);
  });
  const bool ok = XML_Parse(parser, xml.data(), static_cast<int>(xml.size()), 1) == XML_STATUS_OK;
  if (!ok) {
    *error = std::string(XML_ErrorString(XML_GetErrorCode(parser))) + " at byte " +
             std::to_string(XML_GetCurrentByteIndex(parser));
  }
  XML_ParserFree(parser);
  *texts = std::move(c.texts);
  return ok;
}

[[noreturn]] void Fail(const char* what, const std::string& xml, const std::string& detail) {
  fprintf(stderr, "xml_escape_fuzzer: %s: %s\n--- document ---\n%s\n", what, detail.c_str(),
          xml.c_str());
  abort();
}

const klaxon::api::model::ServiceModel& Cloudwatch() {
  static const auto* service = klaxon::api::model::ModelRegistry::Embedded().Find("cloudwatch");
  return *service;
}

// This fuzzer found that AppendXmlEscaped (scalar_text.cc) wrote U+FFFE and U+FFFF as they are,
// which XML 1.0 parsers refuse; it now maps them to U+FFFD. Set to true to skip such texts.
constexpr bool kSkipNoncharacters = false;

bool HasNoncharacter(std::string_view s) {
  return s.find("\xEF\xBF\xBE") != std::string_view::npos ||
         s.find("\xEF\xBF\xBF") != std::string_view::npos;
}

// Encodes `text` as an alarm name of DescribeAlarms (or as an error message) and checks it.
// Precondition (the decoders of every protocol enforce it): `text` is valid UTF-8.
void CheckEncoded(const std::string& text, bool as_error) {
  if (kSkipNoncharacters && HasNoncharacter(text)) return;
  std::vector<uint32_t> cps;
  if (!DecodeUtf8(text, &cps)) return;
  static const klaxon::api::protocol::QueryCodec codec;
  const auto& service = Cloudwatch();
  HttpResponse response;
  std::string element;
  if (as_error) {
    codec.EncodeError(
        klaxon::AwsError(absl::StatusCode::kInvalidArgument, "InvalidParameterValue", text),
        &service, "fuzz", &response);
    element = "Message";
  } else {
    const auto* op = service.FindOperation("DescribeAlarms");
    json::value out =
        json::object{{"MetricAlarms",
                      json::array{json::object{{"AlarmName", text}, {"AlarmDescription", text}}}}};
    klaxon::api::model::ShapeOutput(*op->output, out);
    codec.EncodeOutput(service, *op, std::move(out.as_object()), "fuzz", &response);
    element = "AlarmName";
  }
  std::vector<std::string> texts;
  std::string error;
  if (!ParseXml(response.body, element, &texts, &error)) {
    Fail("malformed XML", response.body, error);
  }
  if (texts.size() != 1) Fail("element count", response.body, std::to_string(texts.size()));
  const std::string expected = Expected(cps);
  if (texts[0] != expected) Fail("text does not read back", response.body, texts[0]);
}

// Sends `bytes` percent-encoded as a form value; what the decoder accepts must encode cleanly.
void CheckDecoded(std::string_view bytes) {
  static const klaxon::api::protocol::QueryCodec codec;
  const auto& service = Cloudwatch();
  std::string body = "Action=DescribeAlarms&Version=2010-08-01&AlarmNamePrefix=";
  static const char* hex = "0123456789ABCDEF";
  for (unsigned char c : bytes) {
    body.push_back('%');
    body.push_back(hex[c >> 4]);
    body.push_back(hex[c & 15]);
  }
  HttpRequest request;
  request.method = "POST";
  request.target = "/";
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  request.body = std::move(body);
  const auto* op = service.FindOperation("DescribeAlarms");
  auto input = codec.DecodeInput(request, service, *op);
  if (!input.ok()) {
    CheckEncoded(std::string(input.status().message()), /*as_error=*/true);
    return;
  }
  const json::value* prefix = input->if_contains("AlarmNamePrefix");
  if (prefix == nullptr || !prefix->is_string()) return;
  const std::string value(prefix->get_string());
  std::vector<uint32_t> cps;
  if (!DecodeUtf8(value, &cps)) Fail("the decoder accepted invalid UTF-8", value, "");
  CheckEncoded(value, /*as_error=*/false);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
  if (mode & 2) {
    CheckDecoded(text);
  } else {
    CheckEncoded(text, mode & 1);
  }
  return 0;
}
