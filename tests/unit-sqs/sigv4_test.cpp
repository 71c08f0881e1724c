// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "notify/sqs/sigv4.hpp"

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using notify::sqs::Credentials;
using notify::sqs::HttpHeader;
using notify::sqs::Scope;
using notify::sqs::SigningInput;
using notify::sqs::SigningOptions;

namespace {

/// The configured location, or NOTIFY_TESTDATA_DIR from the environment when set.
const fs::path testdata = [] {
  const char* env = std::getenv("NOTIFY_TESTDATA_DIR");
  return fs::path(env && *env ? env : NOTIFY_TESTDATA_DIR);
}();

/// The vectors are part of the repository: missing ones fail the test, loudly.
void require_testdata(const fs::path& dir) {
  REQUIRE_MESSAGE(fs::is_directory(dir), "SigV4 test vectors not found at " << dir.string()
                                                                            << " (they live in tests/data of the repository)");
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), "cannot read " << p.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// A raw request of the suite: request line, headers (a line starting with whitespace
/// continues the previous value, kept with its line break), blank line, body.
struct RawRequest {
  std::string method, path, query;
  std::vector<HttpHeader> headers;
  std::string body;

  SigningInput input() const { return {method, path, query, headers, body}; }
};

RawRequest parse_request(const std::string& text) {
  RawRequest r;
  std::string head = text, body;
  if (const auto blank = text.find("\n\n"); blank != std::string::npos) {
    head = text.substr(0, blank);
    r.body = text.substr(blank + 2);
  }
  std::vector<std::string> lines;
  for (std::size_t start = 0; start <= head.size();) {
    const std::size_t nl = std::min(head.find('\n', start), head.size());
    lines.push_back(head.substr(start, nl - start));
    start = nl + 1;
  }
  REQUIRE(!lines.empty());
  // "GET /example space/ HTTP/1.1": the target may hold spaces (get-space).
  const std::string& line = lines[0];
  const auto first = line.find(' '), last = line.rfind(' ');
  REQUIRE(first != std::string::npos);
  REQUIRE(last > first);
  r.method = line.substr(0, first);
  const std::string target = line.substr(first + 1, last - first - 1);
  const auto q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) r.query = target.substr(q + 1);
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    if (!l.empty() && (l[0] == ' ' || l[0] == '\t')) {
      REQUIRE(!r.headers.empty());
      r.headers.back().value += "\n" + l;
      continue;
    }
    const auto colon = l.find(':');
    REQUIRE_MESSAGE(colon != std::string::npos, "header line without ':': " << l);
    r.headers.push_back({l.substr(0, colon), l.substr(colon + 1)});
  }
  return r;
}

Credentials suite_credentials(std::string token = {}) {
  return {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", std::move(token), {}};
}

std::chrono::system_clock::time_point utc(int y, unsigned mo, unsigned d, int h, int mi, int s) {
  using namespace std::chrono;
  return sys_days(year{y} / month{mo} / day{d}) + hours(h) + minutes(mi) + seconds(s);
}

std::string last_nonempty_line(const std::string& text) {
  std::string last;
  for (std::size_t start = 0; start < text.size();) {
    const std::size_t nl = std::min(text.find('\n', start), text.size());
    if (nl > start) last = text.substr(start, nl - start);
    start = nl + 1;
  }
  return last;
}

}  // namespace

TEST_CASE("sign reproduces every case of the AWS SigV4 test suite") {
  const fs::path suite = testdata / "sigv4";
  require_testdata(suite);

  // Cases that cannot apply to this signer, with the reason. None so far.
  const std::set<std::string> not_applicable = {};
  // The 2015-08-30 edition of the suite has 31 cases; a missing directory must not pass.
  constexpr std::size_t expected_cases = 31;

  const std::string token = last_nonempty_line(read_file(suite / "post-sts-token" / "readme.txt"));
  REQUIRE(token.starts_with("AQoDYXdzEPT"));

  std::size_t leaf_dirs = 0, walked = 0;
  for (const auto& entry : fs::recursive_directory_iterator(suite)) {
    if (!entry.is_directory()) continue;
    bool leaf = true;
    for (const auto& child : fs::directory_iterator(entry.path())) leaf = leaf && !child.is_directory();
    if (!leaf) continue;
    ++leaf_dirs;
    const std::string name = entry.path().filename().string();
    if (not_applicable.contains(name)) continue;
    CAPTURE(name);
    const fs::path base = entry.path() / name;
    const RawRequest req = parse_request(read_file(base.string() + ".req"));
    const std::string creq = read_file(base.string() + ".creq");
    const std::string sts = read_file(base.string() + ".sts");
    const std::string authz = read_file(base.string() + ".authz");

    // header-before: the token is in the request and signed; header-after: signed without
    // it, the header added afterwards (the .sreq shows where).
    const bool after = name == "post-sts-header-after";
    const Credentials creds = suite_credentials(name == "post-sts-header-before" ? token : "");
    const auto sig = notify::sqs::sign(req.input(), creds, Scope{"us-east-1", "service"}, utc(2020, 1, 1, 0, 0, 0));
    CHECK(sig.canonical_request == creq);
    CHECK(sig.string_to_sign == sts);
    CHECK(sig.authorization == authz);
    CHECK(sig.amz_date == "20150830T123600Z");
    // X-Amz-Date and (header-before) the token are in the input: only Authorization is added.
    REQUIRE(sig.headers_to_add.size() == 1);
    CHECK(sig.headers_to_add[0].name == "Authorization");
    CHECK(sig.headers_to_add[0].value == authz);
    if (after) {
      const std::string sreq = read_file(base.string() + ".sreq");
      CHECK(sreq.find("X-Amz-Security-Token:" + token) != std::string::npos);
      CHECK(authz.find("x-amz-security-token") == std::string::npos);
    }
    ++walked;
  }
  CHECK(walked + not_applicable.size() == leaf_dirs);
  CHECK(leaf_dirs == expected_cases);
  MESSAGE("AWS SigV4 suite: " << walked << " cases signed, " << not_applicable.size() << " not applicable");
}

TEST_CASE("sign reproduces botocore's six SQS JSON-protocol vectors") {
  const fs::path file = testdata / "sigv4-sqs" / "sqs-json-sigv4-vectors.json";
  require_testdata(file.parent_path());
  const auto doc = nlohmann::ordered_json::parse(read_file(file));
  const auto& cases = doc.at("cases");
  REQUIRE(cases.size() == 6);
  std::size_t with_token = 0;
  for (const auto& c : cases) {
    const std::string name = c.at("name");
    CAPTURE(name);
    const std::string url = c.at("url");
    REQUIRE(url.starts_with("https://"));
    const auto slash = url.find('/', 8);
    const std::string host = url.substr(8, slash - 8), path = url.substr(slash);
    SigningInput in;
    in.method = c.at("method").get_ref<const std::string&>();
    in.path = path;
    in.headers.push_back({"Host", host});
    for (const auto& [k, v] : c.at("request_headers").items()) in.headers.push_back({k, v.get<std::string>()});
    const std::string body = c.at("body");
    in.body = body;
    Credentials creds{c.at("access_key_id"), c.at("secret_access_key"), "", {}};
    if (c.at("session_token").is_string()) {
      creds.session_token = c.at("session_token");
      ++with_token;
    }
    CHECK(notify::sqs::sha256_hex(body) == c.at("payload_sha256"));

    // botocore added X-Amz-Date from its (fixed) clock: sign with that time as `now`.
    const auto sig = notify::sqs::sign(in, creds, Scope{c.at("region"), c.at("service")}, utc(2015, 8, 30, 12, 36, 0));
    CHECK(sig.amz_date == c.at("x_amz_date"));
    CHECK(sig.canonical_request == c.at("canonical_request"));
    CHECK(sig.string_to_sign == c.at("string_to_sign"));
    CHECK(sig.authorization == c.at("authorization"));

    // The headers botocore added, in its order, are exactly headers_to_add.
    std::vector<std::pair<std::string, std::string>> expected_added, added;
    for (const auto& [k, v] : c.at("signed_request_headers").items())
      if (!c.at("request_headers").contains(k)) expected_added.emplace_back(k, v.get<std::string>());
    for (const auto& h : sig.headers_to_add) added.emplace_back(h.name, h.value);
    CHECK(added == expected_added);
    if (!creds.session_token.empty()) {
      CHECK(sig.authorization.find("x-amz-security-token") != std::string::npos);
      CHECK(sig.canonical_request.find("\nx-amz-security-token:" + creds.session_token + "\n") != std::string::npos);
    }
  }
  CHECK(with_token == 3);
}

namespace {

SigningInput sqs_input(std::vector<HttpHeader> extra = {}) {
  SigningInput in;
  in.method = "POST";
  in.path = "/";
  in.headers = {{"Host", "sqs.eu-west-1.amazonaws.com"},
                {"Content-Type", "application/x-amz-json-1.0"},
                {"X-Amz-Target", "AmazonSQS.SendMessage"}};
  for (auto& h : extra) in.headers.push_back(std::move(h));
  in.body = R"({"QueueUrl":"q","MessageBody":"b"})";
  return in;
}

const Scope sqs_scope{"eu-west-1", "sqs"};
const Credentials plain{"AKIDTEST", "secret/KEY+with=chars", "", {}};
const Credentials temporary{"ASIATEST", "secret/KEY+with=chars", "session-token-value", {}};

std::vector<std::string> names(const notify::sqs::Signature& s) {
  std::vector<std::string> out;
  for (const auto& h : s.headers_to_add) out.push_back(h.name);
  return out;
}

}  // namespace

TEST_CASE("headers_to_add lists X-Amz-Date, X-Amz-Security-Token, Authorization in that order, only when missing") {
  const auto now = utc(2026, 11, 23, 19, 38, 25);
  SUBCASE("no date, no token") {
    const auto s = notify::sqs::sign(sqs_input(), plain, sqs_scope, now);
    CHECK(names(s) == std::vector<std::string>{"X-Amz-Date", "Authorization"});
    CHECK(s.headers_to_add[0].value == "20261123T193825Z");
    CHECK(s.headers_to_add[1].value == s.authorization);
    CHECK(s.authorization.find("SignedHeaders=content-type;host;x-amz-date;x-amz-target,") != std::string::npos);
  }
  SUBCASE("temporary credentials: the token is added and signed") {
    const auto s = notify::sqs::sign(sqs_input(), temporary, sqs_scope, now);
    CHECK(names(s) == std::vector<std::string>{"X-Amz-Date", "X-Amz-Security-Token", "Authorization"});
    CHECK(s.headers_to_add[1].value == "session-token-value");
    CHECK(s.authorization.find("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target,") !=
          std::string::npos);
  }
  SUBCASE("date and token already in the input (any case)") {
    const auto s = notify::sqs::sign(
        sqs_input({{"x-amz-date", "20200101T000000Z"}, {"X-AMZ-SECURITY-TOKEN", "other-token"}}), temporary,
        sqs_scope, now);
    CHECK(names(s) == std::vector<std::string>{"Authorization"});
    CHECK(s.amz_date == "20200101T000000Z");
    CHECK(s.canonical_request.find("\nx-amz-security-token:other-token\n") != std::string::npos);
    CHECK(s.string_to_sign.find("\n20200101/eu-west-1/sqs/aws4_request\n") != std::string::npos);
  }
  SUBCASE("the same input signs the same way twice; another time signs differently") {
    const auto a = notify::sqs::sign(sqs_input(), plain, sqs_scope, now);
    const auto b = notify::sqs::sign(sqs_input(), plain, sqs_scope, now);
    const auto c = notify::sqs::sign(sqs_input(), plain, sqs_scope, now + 1s);
    CHECK(a.signature == b.signature);
    CHECK(a.signature != c.signature);
    CHECK(a.signature.size() == 64);
  }
}

TEST_CASE("the date comes from now in UTC, truncated to the second") {
  using namespace std::chrono;
  const auto now = sys_days(year{2026} / 1 / 2) + 3h + 4min + 5s + 678ms;
  const auto s = notify::sqs::sign(sqs_input(), plain, sqs_scope, now);
  CHECK(s.amz_date == "20260102T030405Z");
  CHECK(s.string_to_sign.starts_with("AWS4-HMAC-SHA256\n20260102T030405Z\n20260102/eu-west-1/sqs/aws4_request\n"));
  CHECK(s.authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKIDTEST/20260102/eu-west-1/sqs/aws4_request, "));
  CHECK(notify::sqs::sign(sqs_input(), plain, sqs_scope, sys_days(year{2024} / 2 / 29) + 23h + 59min + 59s)
            .amz_date == "20240229T235959Z");
}

TEST_CASE("the secret key never appears in what sign returns") {
  const Credentials creds{"AKIDTEST", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "SESSIONtoken123", {}};
  const auto s = notify::sqs::sign(sqs_input(), creds, sqs_scope, utc(2026, 11, 23, 0, 0, 0));
  for (const std::string* text : {&s.amz_date, &s.canonical_request, &s.string_to_sign, &s.signature,
                                  &s.authorization}) {
    CHECK(text->find(creds.secret_access_key) == std::string::npos);
    CHECK(text->find("wJalrXUtnFEMI") == std::string::npos);
  }
  for (const auto& h : s.headers_to_add) CHECK(h.value.find(creds.secret_access_key) == std::string::npos);
  // The session token is a signed header: it is in the canonical request, not in the rest.
  CHECK(s.canonical_request.find("\nx-amz-security-token:SESSIONtoken123\n") != std::string::npos);
  CHECK(s.string_to_sign.find("SESSIONtoken123") == std::string::npos);
  CHECK(s.authorization.find("SESSIONtoken123") == std::string::npos);
}

TEST_CASE("canonical request details: query, path, headers") {
  const auto now = utc(2026, 11, 23, 0, 0, 0);
  auto creq = [&](SigningInput in, SigningOptions o = {}) {
    in.headers.push_back({"Host", "h"});
    return notify::sqs::sign(in, plain, sqs_scope, now, o).canonical_request;
  };
  auto line = [](const std::string& cr, int n) {
    std::size_t start = 0;
    for (int i = 0; i < n; ++i) start = cr.find('\n', start) + 1;
    return cr.substr(start, cr.find('\n', start) - start);
  };
  SUBCASE("query: decoded, encoded again, sorted by name then value, empty values as name=") {
    const auto cr = creq({"GET", "/", "b=2&a=1&a=&c&%7e=%2f&d=x+y%20z&&", {}, ""});
    CHECK(line(cr, 2) == "a=&a=1&b=2&c=&d=x%2By%20z&~=%2F");
  }
  SUBCASE("path: normalised and each segment encoded once more (non-S3)") {
    CHECK(line(creq({"GET", "/a/./b//c/../d%20e/", "", {}, ""}), 1) == "/a/b/d%2520e/");
    CHECK(line(creq({"GET", "", "", {}, ""}), 1) == "/");
  }
  SUBCASE("path: used as sent without normalisation (S3 style)") {
    CHECK(line(creq({"GET", "//a/./b%20c", "", {}, ""}, SigningOptions{false}), 1) == "//a/./b%20c");
  }
  SUBCASE("headers: names lowercased and merged across case, values trimmed and collapsed") {
    const auto cr = creq({"GET", "/", "", {{"My-H", "  a   b  "}, {"my-h", "c"}, {"X-Y", "\tq\t"}}, ""});
    CHECK(cr.find("\nmy-h:a b,c\n") != std::string::npos);
    CHECK(cr.find("\nx-y:q\n") != std::string::npos);
  }
  SUBCASE("headers proxies may change are not signed") {
    const auto cr = creq({"GET", "/", "", {{"User-Agent", "notify"}, {"Authorization", "old"}, {"Expect", "x"}}, ""});
    CHECK(cr.find("user-agent") == std::string::npos);
    CHECK(cr.find("authorization") == std::string::npos);
    CHECK(cr.find("expect") == std::string::npos);
  }
  SUBCASE("an X-Amz-Content-Sha256 header is the payload hash") {
    const auto cr = creq({"PUT", "/k", "", {{"X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD"}}, "body"});
    CHECK(cr.ends_with("\nUNSIGNED-PAYLOAD"));
  }
}

TEST_CASE("sha256_hex is lowercase hex SHA-256") {
  CHECK(notify::sqs::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(notify::sqs::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
