#include "api/protocol/cbor.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "api/protocol/errors.h"
#include "api/protocol/json_body.h"
#include "api/protocol/wire_text.h"
#include "common/status.h"

namespace klaxon::api::protocol {
namespace {

namespace json = boost::json;
using model::Shape;
using model::ShapeType;

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}

  absl::StatusOr<json::value> Item(int depth) {
    if (depth > kMaxJsonDepth) return Fail("nested too deeply");
    uint8_t initial;
    if (!Byte(&initial)) return Fail("truncated");
    int major = initial >> 5;
    int info = initial & 0x1F;
    if (major == 7) return Simple(info);
    bool indefinite = info == 31;
    uint64_t arg = 0;
    if (!indefinite && !Argument(info, &arg)) return Fail("bad argument");
    if (indefinite && (major == 0 || major == 1 || major == 6)) return Fail("bad indefinite");
    switch (major) {
      case 0:
        if (arg > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
          return json::value(arg);
        }
        return json::value(static_cast<int64_t>(arg));
      case 1:
        if (arg > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
          return json::value(-1.0 - static_cast<double>(arg));
        }
        return json::value(-1 - static_cast<int64_t>(arg));
      case 2:
      case 3: {
        std::string s;
        if (indefinite) {
          while (true) {
            if (AtBreak()) break;
            uint8_t chunk;
            if (!Byte(&chunk)) return Fail("truncated");
            if ((chunk >> 5) != major || (chunk & 0x1F) == 31) return Fail("bad string chunk");
            uint64_t n;
            if (!Argument(chunk & 0x1F, &n) || !Take(n, &s)) return Fail("truncated");
          }
        } else if (!Take(arg, &s)) {
          return Fail("truncated");
        }
        if (major == 2) return json::value(Base64Encode(s));
        if (!IsValidUtf8(s)) return Fail("text is not valid UTF-8");
        return json::value(s);
      }
      case 4: {
        json::array array;
        for (uint64_t i = 0; indefinite || i < arg; ++i) {
          if (indefinite && AtBreak()) break;
          if (!indefinite && remaining() == 0) return Fail("truncated");
          KLAXON_ASSIGN_OR_RETURN(json::value v, Item(depth + 1));
          array.push_back(std::move(v));
        }
        return json::value(std::move(array));
      }
      case 5: {
        json::object object;
        for (uint64_t i = 0; indefinite || i < arg; ++i) {
          if (indefinite && AtBreak()) break;
          if (!indefinite && remaining() == 0) return Fail("truncated");
          KLAXON_ASSIGN_OR_RETURN(json::value key, Item(depth + 1));
          if (!key.is_string()) return Fail("map key is not a text string");
          KLAXON_ASSIGN_OR_RETURN(json::value v, Item(depth + 1));
          object[key.get_string()] = std::move(v);
        }
        return json::value(std::move(object));
      }
      case 6:
        return Item(depth + 1);  // tag 1 (epoch seconds) and others: the content
    }
    return Fail("bad major type");
  }

  size_t remaining() const { return data_.size() - pos_; }

 private:
  static absl::Status Fail(std::string_view what) {
    return SerializationError("Request body is not valid CBOR: " + std::string(what));
  }

  bool Byte(uint8_t* b) {
    if (pos_ >= data_.size()) return false;
    *b = static_cast<uint8_t>(data_[pos_++]);
    return true;
  }

  bool AtBreak() {
    if (pos_ < data_.size() && static_cast<uint8_t>(data_[pos_]) == 0xFF) {
      ++pos_;
      return true;
    }
    return false;
  }

  bool Argument(int info, uint64_t* out) {
    if (info < 24) {
      *out = static_cast<uint64_t>(info);
      return true;
    }
    int bytes = info == 24 ? 1 : info == 25 ? 2 : info == 26 ? 4 : info == 27 ? 8 : 0;
    if (bytes == 0 || remaining() < static_cast<size_t>(bytes)) return false;
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<uint8_t>(data_[pos_++]);
    *out = v;
    return true;
  }

  bool Take(uint64_t n, std::string* out) {
    if (n > remaining()) return false;
    out->append(data_.substr(pos_, n));
    pos_ += n;
    return true;
  }

  absl::StatusOr<json::value> Simple(int info) {
    switch (info) {
      case 20:
        return json::value(false);
      case 21:
        return json::value(true);
      case 22:
      case 23:
        return json::value(nullptr);
      case 25: {
        uint64_t h;
        if (!Argument(25, &h)) return Fail("truncated");
        int exponent = static_cast<int>((h >> 10) & 0x1F);
        double mantissa = static_cast<double>(h & 0x3FF);
        double v = exponent == 0    ? std::ldexp(mantissa, -24)
                   : exponent == 31 ? (mantissa == 0 ? INFINITY : NAN)
                                    : std::ldexp(mantissa + 1024, exponent - 25);
        return json::value((h & 0x8000) ? -v : v);
      }
      case 26: {
        uint64_t bits;
        if (!Argument(26, &bits)) return Fail("truncated");
        uint32_t b32 = static_cast<uint32_t>(bits);
        float f;
        std::memcpy(&f, &b32, sizeof(f));
        return json::value(static_cast<double>(f));
      }
      case 27: {
        uint64_t bits;
        if (!Argument(27, &bits)) return Fail("truncated");
        double d;
        std::memcpy(&d, &bits, sizeof(d));
        return json::value(d);
      }
      default:
        return Fail("unsupported simple value");
    }
  }

  std::string_view data_;
  size_t pos_ = 0;
};

void Head(int major, uint64_t arg, std::string* out) {
  uint8_t m = static_cast<uint8_t>(major << 5);
  if (arg < 24) {
    out->push_back(static_cast<char>(m | arg));
    return;
  }
  int bytes = arg <= 0xFF ? 1 : arg <= 0xFFFF ? 2 : arg <= 0xFFFFFFFFULL ? 4 : 8;
  out->push_back(static_cast<char>(m | (bytes == 1 ? 24 : bytes == 2 ? 25 : bytes == 4 ? 26 : 27)));
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((arg >> (8 * i)) & 0xFF));
}

void Double(double d, std::string* out) {
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof(bits));
  out->push_back(static_cast<char>(0xFB));
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>((bits >> (8 * i)) & 0xFF));
}

void Int(int64_t v, std::string* out) {
  if (v >= 0) {
    Head(0, static_cast<uint64_t>(v), out);
  } else {
    Head(1, static_cast<uint64_t>(-1 - v), out);
  }
}

void Text(std::string_view s, std::string* out) {
  Head(3, s.size(), out);
  out->append(s);
}

void Encode(const json::value& v, const Shape* shape, std::string* out, int depth) {
  if (depth > 100) {
    out->push_back(static_cast<char>(0xF6));
    return;
  }
  ShapeType type = shape != nullptr ? shape->type : ShapeType::kStructure;
  if (shape != nullptr && type == ShapeType::kTimestamp && v.is_number()) {
    Head(6, 1, out);
    Double(v.to_number<double>(), out);
    return;
  }
  if (shape != nullptr && type == ShapeType::kBlob && v.is_string()) {
    std::string bytes;
    std::string_view text(v.get_string().data(), v.get_string().size());
    if (!Base64Decode(text, &bytes)) bytes = std::string(text);
    Head(2, bytes.size(), out);
    out->append(bytes);
    return;
  }
  if (shape != nullptr && (type == ShapeType::kDouble || type == ShapeType::kFloat) &&
      v.is_number()) {
    Double(v.to_number<double>(), out);
    return;
  }
  switch (v.kind()) {
    case json::kind::null:
      out->push_back(static_cast<char>(0xF6));
      return;
    case json::kind::bool_:
      out->push_back(static_cast<char>(v.get_bool() ? 0xF5 : 0xF4));
      return;
    case json::kind::int64:
      Int(v.get_int64(), out);
      return;
    case json::kind::uint64:
      Head(0, v.get_uint64(), out);
      return;
    case json::kind::double_:
      Double(v.get_double(), out);
      return;
    case json::kind::string:
      Text(std::string_view(v.get_string().data(), v.get_string().size()), out);
      return;
    case json::kind::array: {
      const json::array& a = v.get_array();
      const Shape* item =
          shape != nullptr && type == ShapeType::kList ? shape->list_member->shape : nullptr;
      Head(4, a.size(), out);
      for (const json::value& x : a) Encode(x, item, out, depth + 1);
      return;
    }
    case json::kind::object: {
      const json::object& o = v.get_object();
      Head(5, o.size(), out);
      for (const auto& [key, x] : o) {
        Text(std::string_view(key.data(), key.size()), out);
        const Shape* child = nullptr;
        if (shape != nullptr && type == ShapeType::kStructure) {
          const model::Member* m = shape->FindMember(std::string_view(key.data(), key.size()));
          if (m != nullptr) child = m->shape;
        } else if (shape != nullptr && type == ShapeType::kMap) {
          child = shape->map_value->shape;
        }
        Encode(x, child, out, depth + 1);
      }
      return;
    }
  }
}

int Base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

}  // namespace

absl::StatusOr<json::value> DecodeCbor(std::string_view data) {
  Reader reader(data);
  KLAXON_ASSIGN_OR_RETURN(json::value v, reader.Item(0));
  if (reader.remaining() != 0) {
    return SerializationError("Request body is not valid CBOR: trailing bytes");
  }
  return v;
}

void EncodeCbor(const json::value& value, const model::Shape* shape, std::string* out) {
  Encode(value, shape, out, 0);
}

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t n = (static_cast<uint8_t>(bytes[i]) << 16) |
                 (static_cast<uint8_t>(bytes[i + 1]) << 8) | static_cast<uint8_t>(bytes[i + 2]);
    out.push_back(kBase64[(n >> 18) & 63]);
    out.push_back(kBase64[(n >> 12) & 63]);
    out.push_back(kBase64[(n >> 6) & 63]);
    out.push_back(kBase64[n & 63]);
  }
  if (i < bytes.size()) {
    uint32_t n = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out.push_back(kBase64[(n >> 18) & 63]);
    out.push_back(kBase64[(n >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? kBase64[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

bool Base64Decode(std::string_view text, std::string* bytes) {
  bytes->clear();
  uint32_t acc = 0;
  int bits = 0;
  size_t i = 0;
  for (; i < text.size() && text[i] != '='; ++i) {
    int v = Base64Value(text[i]);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes->push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  for (; i < text.size(); ++i) {
    if (text[i] != '=') return false;
  }
  return true;
}

}  // namespace klaxon::api::protocol
