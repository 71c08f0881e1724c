// SPDX-License-Identifier: MIT
// The emulator's token endpoint accepts only a correctly signed, current assertion of the
// test service account for FCM's scope and its own URL: the checks the provider relies on.
#include "common.hpp"

using namespace fcmtest;

namespace {

std::string grant(FcmEmulator& emu, const std::string& assertion) {
  return emu.control("POST", "/token", notify::fcm::token_request_body(assertion));
}

std::int64_t now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

TEST_CASE("the emulator's token endpoint rejects every assertion but a valid one") {
  FcmEmulator emu;
  const auto account = account_for(emu);
  auto signer = notify::fcm::Signer::load(account.private_key);
  REQUIRE(signer.has_value());
  auto sign = [&](const notify::fcm::ServiceAccount& a, std::int64_t at) {
    auto jwt = notify::fcm::make_assertion(a, *signer, at);
    REQUIRE(jwt.has_value());
    return *jwt;
  };

  const auto ok = nlohmann::json::parse(grant(emu, sign(account, now_unix())));
  CHECK(ok["access_token"].get<std::string>().rfind("ya29.", 0) == 0);
  CHECK(ok["expires_in"] == 3600);

  auto other_email = account;
  other_email.client_email = "intruder@notify-test.iam.gserviceaccount.com";
  auto other_audience = account;
  other_audience.token_uri = "https://oauth2.googleapis.com/token";
  std::string tampered = sign(account, now_unix());
  // Another base64url letter (flipping a bit could leave the alphabet: 'z' ^ 1 is '{',
  // and the assertion would then be refused as malformed, not for its signature).
  char& c = tampered[tampered.rfind('.') + 5];
  c = c == 'A' ? 'B' : 'A';

  struct Row {
    const char* what;
    std::string assertion;
    const char* why;
  };
  const Row rows[] = {
      {"another issuer", sign(other_email, now_unix()), "iss"},
      {"another audience", sign(other_audience, now_unix()), "aud"},
      {"expired", sign(account, now_unix() - 7200), "short-lived"},
      {"issued in the future", sign(account, now_unix() + 600), "future"},
      {"a tampered signature", tampered, "Signature"},
      {"not a JWT", "not-a-jwt", "malformed"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.what);
    const auto answer = nlohmann::json::parse(grant(emu, row.assertion));
    CHECK(answer["error"] == "invalid_grant");
    CHECK(answer["error_description"].get<std::string>().find(row.why) != std::string::npos);
  }
  const auto stats = emu.stats();
  CHECK(stats["tokens_issued"] == 1);
  CHECK(stats["tokens_rejected"] == 6);
}

TEST_CASE("the emulator's messages:send checks the bearer token, the project and FCM's body shape") {
  FcmEmulator emu;
  const auto account = account_for(emu);
  auto signer = notify::fcm::Signer::load(account.private_key);
  REQUIRE(signer.has_value());
  const auto jwt = notify::fcm::make_assertion(account, *signer, now_unix());
  REQUIRE(jwt.has_value());
  const std::string token = nlohmann::json::parse(grant(emu, *jwt))["access_token"];
  const std::vector<std::string> auth = {"Authorization: Bearer " + token, "Content-Type: application/json"};
  auto send = [&](const std::string& project, const std::string& body, const std::vector<std::string>& headers) {
    return nlohmann::json::parse(emu.control("POST", "/v1/projects/" + project + "/messages:send", body, headers));
  };

  CHECK(send("notify-test", R"({"message":{"token":"t"}})", {"Content-Type: application/json"})["error"]["status"] ==
        "UNAUTHENTICATED");
  CHECK(send("notify-test", R"({"message":{"token":"t"}})",
             {"Authorization: Bearer ya29.made-up", "Content-Type: application/json"})["error"]["status"] ==
        "UNAUTHENTICATED");
  CHECK(send("another-project", R"({"message":{"token":"t"}})", auth)["error"]["status"] == "PERMISSION_DENIED");

  struct Row {
    const char* what;
    std::string body;
    const char* message;
  };
  const Row rows[] = {
      {"a data value that is not a string", R"({"message":{"token":"t","data":{"param":{"photoId":7}}}})", "TYPE_STRING"},
      {"an unknown field", R"({"message":{"token":"t","notifications":{}}})", "Unknown name"},
      {"no target", R"({"message":{"notification":{"title":"x"}}})", "token, topic or condition"},
      {"a bad android priority", R"({"message":{"token":"t","android":{"priority":"urgent"}}})", "priority"},
      {"a reserved data key", R"({"message":{"token":"t","data":{"from":"x"}}})", "from"},
      {"over 4096 bytes", R"({"message":{"token":"t","notification":{"body":")" + std::string(4100, 'x') + R"("}}})",
       "too big"},
      {"not JSON", "{", "Invalid JSON"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.what);
    const auto answer = send("notify-test", row.body, auth);
    CHECK(answer["error"]["status"] == "INVALID_ARGUMENT");
    CHECK(answer["error"]["message"].get<std::string>().find(row.message) != std::string::npos);
  }
  const auto ok = send("notify-test", R"({"message":{"token":"t","data":{"screen":"Photo"}}})", auth);
  CHECK(ok["name"] == "projects/notify-test/messages/1");
  CHECK(emu.requests().size() == 11);  // every request is recorded, accepted or not
}
