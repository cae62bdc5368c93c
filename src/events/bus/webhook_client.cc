#include "events/bus/webhook_client.h"

#include <openssl/ssl.h>

#include <chrono>
#include <exception>

#include "absl/strings/str_cat.h"
#include "boost/asio/connect.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/ssl.hpp"
#include "boost/url/parse.hpp"

namespace klaxon::events {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr size_t kMaxResponseBody = size_t{64} * 1024;

template <typename Stream>
absl::StatusOr<HttpResult> Exchange(Stream& stream, http::request<http::string_body>& req,
                                    beast::tcp_stream& timer) {
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxResponseBody);
  parser.eager(true);
  beast::error_code ec;
  http::read(stream, buffer, parser, ec);
  if (ec && ec != http::error::body_limit) {
    return absl::UnavailableError(absl::StrCat("webhook: reading the response: ", ec.message()));
  }
  (void)timer;
  HttpResult r;
  r.status = static_cast<int>(parser.get().result_int());
  r.body = parser.get().body();
  return r;
}

}  // namespace

absl::StatusOr<HttpResult> BeastWebhookClient::Post(
    const std::string& url, const std::map<std::string, std::string>& headers,
    const std::string& body, absl::Duration timeout) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return absl::InvalidArgumentError(absl::StrCat("webhook: bad URL ", url));
  const std::string scheme(parsed->scheme());
  const bool tls = scheme == "https" || scheme == "HTTPS";
  if (!tls && scheme != "http" && scheme != "HTTP") {
    return absl::InvalidArgumentError(absl::StrCat("webhook: unsupported scheme ", scheme));
  }
  std::string host(parsed->encoded_host());
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::string port(parsed->port());
  if (port.empty()) port = tls ? "443" : "80";
  std::string target(parsed->encoded_path());
  if (target.empty()) target = "/";
  if (parsed->has_query()) absl::StrAppend(&target, "?", std::string(parsed->encoded_query()));

  http::request<http::string_body> req{http::verb::post, target, 11};
  std::string host_header(parsed->encoded_authority());
  if (auto at = host_header.rfind('@'); at != std::string::npos) host_header.erase(0, at + 1);
  req.set(http::field::host, host_header);
  req.set(http::field::user_agent, "klaxon-events/1");
  for (const auto& [name, value] : headers) req.set(name, value);
  req.body() = body;
  req.prepare_payload();

  const auto deadline = std::chrono::milliseconds(absl::ToInt64Milliseconds(timeout));
  try {
    asio::io_context ioc;
    tcp::resolver resolver(ioc);
    beast::error_code ec;
    auto endpoints = resolver.resolve(host, port, ec);
    if (ec)
      return absl::UnavailableError(absl::StrCat("webhook: resolving ", host, ": ", ec.message()));
    if (!tls) {
      beast::tcp_stream stream(ioc);
      stream.expires_after(deadline);
      stream.connect(endpoints, ec);
      if (ec) {
        return absl::UnavailableError(
            absl::StrCat("webhook: connecting to ", host, ":", port, ": ", ec.message()));
      }
      auto r = Exchange(stream, req, stream);
      stream.socket().shutdown(tcp::socket::shutdown_both, ec);
      return r;
    }
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.set_default_verify_paths();
    ctx.set_verify_mode(asio::ssl::verify_peer);
    beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
    if (!SSL_set_tlsext_host_name(stream.native_handle(), host.c_str())) {
      return absl::UnavailableError("webhook: cannot set TLS SNI");
    }
    stream.set_verify_callback(asio::ssl::host_name_verification(host));
    beast::get_lowest_layer(stream).expires_after(deadline);
    beast::get_lowest_layer(stream).connect(endpoints, ec);
    if (ec) {
      return absl::UnavailableError(
          absl::StrCat("webhook: connecting to ", host, ":", port, ": ", ec.message()));
    }
    stream.handshake(asio::ssl::stream_base::client, ec);
    if (ec) return absl::UnavailableError(absl::StrCat("webhook: TLS handshake: ", ec.message()));
    auto r = Exchange(stream, req, beast::get_lowest_layer(stream));
    stream.shutdown(ec);
    return r;
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("webhook: ", e.what()));
  }
}

}  // namespace klaxon::events
