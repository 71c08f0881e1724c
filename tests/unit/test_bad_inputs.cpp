// SPDX-License-Identifier: MIT
#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "notify/codec.hpp"
#include "notify/schema.hpp"

namespace {

using notify::Errc;
using notify::Errors;

/// One bad body, the error it must produce and where.
struct Row {
  std::string body;
  Errc code;
  std::string path;
};

std::string describe(const Errors& errors) {
  std::string s;
  for (const auto& e : errors) s += std::string(notify::to_string(e.code)) + " at '" + e.path + "': " + e.message + "\n";
  return s;
}

const notify::Error* find_error(const Errors& errors, Errc code, std::string_view path) {
  for (const auto& e : errors)
    if (e.code == code && e.path == path) return &e;
  return nullptr;
}

/// Wraps a param object in an envelope of the given type.
std::string env(std::string_view type, std::string_view param) {
  return R"({"type":")" + std::string(type) + R"(","param":)" + std::string(param) + "}";
}

std::string replace_at(std::string_view tmpl, std::string_view value) {
  std::string s(tmpl);
  const auto at = s.find('@');
  NOTIFY_ASSERT(at != std::string::npos);
  s.replace(at, 1, value);
  return s;
}

std::string id_list(std::size_t n) {
  std::string s = "[";
  for (std::size_t i = 0; i < n; ++i) {
    if (i) s += ',';
    s += std::to_string(i + 1);
  }
  return s + "]";
}

std::string capsule_list(std::size_t n) {
  std::string s = "[";
  for (std::size_t i = 0; i < n; ++i) {
    if (i) s += ',';
    s += R"({"letterId":1,"receiverId":2,"senderId":3,"familyId":4})";
  }
  return s + "]";
}

const std::string comment_message = R"({"messageFamId":29001,"authorId":3,"familyId":3,"commentPreview":@})";
const std::string photo_create = R"({"photoId":5120,"authorId":12,"familyId":3,"titlePreview":@})";
const std::string comment_photo = R"({"photoId":5120,"authorId":14,"familyId":3,"commentPreview":@})";
const std::string letter_send = R"({"letterId":881,"isTimeCapsule":@,"familyId":3,"receiverId":12})";
const std::string emotion_poke = R"({"type":"EMOTION_POKE","param":{"familyId":3,"userId":14}})";
const std::string capsule = R"({"letterId":1,"receiverId":2,"senderId":3,"familyId":4})";

std::vector<Row> bad_rows() {
  const std::string ok_tail = R"(,"param":{"familyId":3,"userId":14}})";
  const std::string long_ascii = "\"" + std::string(4097, 'a') + "\"";
  std::string long_korean = "\"";
  for (int i = 0; i < 1366; ++i) long_korean += "가";  // 4098 bytes
  long_korean += "\"";
  std::string long_escaped = "\"";
  for (int i = 0; i < 4097; ++i) long_escaped += "\\u0061";  // 4097 bytes once decoded
  long_escaped += "\"";

  return {
      // ---- malformed JSON: one invalid_json error at the root ----
      {R"({"type":"MESSAGE_TODAY","param":{"familyIds":[1,2)", Errc::invalid_json, ""},          // truncated
      {R"({"type")", Errc::invalid_json, ""},                                                     // truncated after a key
      {R"({"type":"EMOTION_POKE)", Errc::invalid_json, ""},                                       // unterminated string
      {env("MESSAGE_TODAY", R"({"familyIds":[1,2,]})"), Errc::invalid_json, ""},                  // trailing comma in array
      {env("EMOTION_POKE", R"({"familyId":3,"userId":14,})"), Errc::invalid_json, ""},            // trailing comma in object
      {emotion_poke + ",}", Errc::invalid_json, ""},                                             // trailing comma in envelope
      {R"({'type':'EMOTION_POKE','param':{'familyId':3,'userId':14}})", Errc::invalid_json, ""},  // single quotes
      {R"({"type":'EMOTION_POKE')" + ok_tail, Errc::invalid_json, ""},                           // single-quoted value
      {R"({type:"EMOTION_POKE")" + ok_tail, Errc::invalid_json, ""},                             // unquoted key
      {R"({"type" "EMOTION_POKE")" + ok_tail, Errc::invalid_json, ""},                           // missing colon
      {R"({"type":"EMOTION_POKE" "param":{"familyId":3,"userId":14}})", Errc::invalid_json, ""},  // missing comma
      {env("COMMENT_MESSAGE", replace_at(comment_message, R"("\x41")")), Errc::invalid_json, ""},   // bad escape
      {env("COMMENT_MESSAGE", replace_at(comment_message, R"("\u12")")), Errc::invalid_json, ""},   // short \u
      {env("COMMENT_MESSAGE", replace_at(comment_message, R"("\uZZZZ")")), Errc::invalid_json, ""}, // non-hex \u
      {env("COMMENT_MESSAGE", replace_at(comment_message, R"("\ud83d\uZZZZ")")), Errc::invalid_json, ""},
      {env("COMMENT_MESSAGE", replace_at(comment_message, "\"end\\")), Errc::invalid_json, ""},    // escape at the end
      {R"({"ty\qpe":"EMOTION_POKE")" + ok_tail, Errc::invalid_json, ""},                         // bad escape in a key
      {env("COMMENT_MESSAGE", replace_at(comment_message, "\"a\nb\"")), Errc::invalid_json, ""},  // raw line feed
      {env("COMMENT_MESSAGE", replace_at(comment_message, "\"a\tb\"")), Errc::invalid_json, ""},  // raw tab
      {env("COMMENT_MESSAGE", replace_at(comment_message, std::string("\"a\0b\"", 5))), Errc::invalid_json, ""},
      {emotion_poke + " x", Errc::invalid_json, ""},                                             // garbage after the value
      {emotion_poke + "{}", Errc::invalid_json, ""},                                             // a second value
      {emotion_poke + "}", Errc::invalid_json, ""},                                              // an extra brace
      {"", Errc::invalid_json, ""},                                                              // empty body
      {" \n\t ", Errc::invalid_json, ""},                                                        // only white space
      {"\xEF\xBB\xBF" + emotion_poke, Errc::invalid_json, ""},                                   // byte order mark
      {"// comment\n" + emotion_poke, Errc::invalid_json, ""},                                   // comment
      {env("EMOTION_POKE", R"({"familyId":3,"userId":NaN})"), Errc::invalid_json, ""},
      {env("EMOTION_POKE", R"({"familyId":3,"userId":Infinity})"), Errc::invalid_json, ""},
      {env("EMOTION_POKE", R"({"familyId":03,"userId":14})"), Errc::invalid_json, ""},           // leading zero
      {env("EMOTION_POKE", R"({"familyId":+3,"userId":14})"), Errc::invalid_json, ""},           // plus sign
      {env("EMOTION_POKE", R"({"familyId":0x10,"userId":14})"), Errc::invalid_json, ""},         // hex
      {env("EMOTION_POKE", R"({"familyId":3.,"userId":14})"), Errc::invalid_json, ""},           // empty fraction
      {env("EMOTION_POKE", R"({"familyId":-,"userId":14})"), Errc::invalid_json, ""},            // lone minus
      {env("EMOTION_POKE", R"({"familyId":1e,"userId":14})"), Errc::invalid_json, ""},           // empty exponent
      {env("LETTER_SEND", replace_at(letter_send, "tru")), Errc::invalid_json, ""},              // bad literal
      {env("PHOTO_CREATE", replace_at(photo_create, "nul")), Errc::invalid_json, ""},
      {env("EMOTION_POKE", R"({"familyId":3,"userId":14,"x":[1,2})"), Errc::invalid_json, ""},   // unclosed array
      {env("EMOTION_POKE", R"({"familyId":3,"userId":})"), Errc::invalid_json, ""},              // missing value
      {env("EMOTION_POKE", R"({"familyId":3,"userId":14,"x":")" "\xFF" R"("})"), Errc::invalid_json, ""},
      {R"({")" "\xC3\x28" R"(":1,"type":"EMOTION_POKE")" + ok_tail, Errc::invalid_json, ""},    // bad UTF-8 in a key
      {"[1,2", Errc::invalid_json, ""},                                                           // bad root array
      {"{\"type\":\"EMOTION_POKE\"\x01" + ok_tail, Errc::invalid_json, ""},                       // control char outside

      // ---- nesting and size ----
      {env("EMOTION_POKE", R"({"familyId":3,"userId":14,"x":)" + std::string(40, '[') + std::string(40, ']') + "}"),
       Errc::too_deep, ""},
      {R"({"x":)" + std::string(200, '[') + std::string(200, ']') + "," + emotion_poke.substr(1), Errc::too_deep, ""},
      {std::string(100000, '['), Errc::too_deep, ""},
      {env("TIMECAPSULE_OPEN", R"({"timaCapsules":[{"letterId":1,"receiverId":2,"senderId":3,"familyId":4,"x":)" +
                                   std::string(30, '[') + std::string(30, ']') + "}]}"),
       Errc::too_deep, ""},
      {env("COMMENT_MESSAGE", replace_at(comment_message, "\"" + std::string(1024 * 1024, 'a') + "\"")),
       Errc::body_too_large, ""},
      {std::string(1024 * 1024 + 1, ' '), Errc::body_too_large, ""},

      // ---- root and envelope ----
      {"[]", Errc::expected_object, ""},
      {R"("MESSAGE_TODAY")", Errc::expected_object, ""},
      {"3", Errc::expected_object, ""},
      {"null", Errc::expected_object, ""},
      {"true", Errc::expected_object, ""},
      {"{}", Errc::missing_field, "type"},
      {"{}", Errc::missing_field, "param"},
      {R"({"param":{"familyIds":[1]}})", Errc::missing_field, "type"},
      {R"({"type":"MESSAGE_TODAY"})", Errc::missing_field, "param"},
      {R"({"type":"MESSAGE_TODAY","params":{"familyIds":[1]}})", Errc::missing_field, "param"},
      {R"({"type":3,"param":{"familyIds":[1]}})", Errc::expected_string, "type"},
      {R"({"type":null,"param":{"familyIds":[1]}})", Errc::expected_string, "type"},
      {R"({"type":["MESSAGE_TODAY"],"param":{"familyIds":[1]}})", Errc::expected_string, "type"},
      {R"({"type":{"name":"MESSAGE_TODAY"},"param":{"familyIds":[1]}})", Errc::expected_string, "type"},
      {R"({"type":"message_today","param":{"familyIds":[1]}})", Errc::unknown_type, "type"},
      {R"({"type":"PEDIA_QUESTION_EDITED","param":{"familyId":3,"ownerId":12}})", Errc::unknown_type, "type"},
      {R"({"type":"TIME_CAPSULE_OPEN","param":{"timaCapsules":[]}})", Errc::unknown_type, "type"},
      {R"({"type":"","param":{}})", Errc::unknown_type, "type"},
      {R"({"param":{},"type":"MESSAGE_TODAY "})", Errc::unknown_type, "type"},
      {R"({"type":")" "\xFF" R"(","param":{}})", Errc::invalid_utf8, "type"},
      {env("MESSAGE_TODAY", "[]"), Errc::expected_object, "param"},
      {env("MESSAGE_TODAY", "null"), Errc::expected_object, "param"},
      {env("EMOTION_POKE", R"("{\"familyId\":3,\"userId\":14}")"), Errc::expected_object, "param"},
      {R"({"param":42,"type":"EMOTION_CHOSEN"})", Errc::expected_object, "param"},

      // ---- ids (the full matrix is in the next test case) ----
      {env("MESSAGE_TODAY", R"({"familyIds":[3,"17"]})"), Errc::expected_integer, "param.familyIds[1]"},
      {env("MESSAGE_BIRTHDAY", R"({"familyIds":[3,17,4.5]})"), Errc::expected_integer, "param.familyIds[2]"},
      {env("MESSAGE_TODAY", R"({"familyIds":[1,2,3,0]})"), Errc::out_of_range, "param.familyIds[3]"},
      {env("MESSAGE_BIRTHDAY", R"({"familyIds":[1,2,3,null]})"), Errc::expected_integer, "param.familyIds[3]"},
      {env("COMMENT_MESSAGE", R"({"messageFamId":"29001","authorId":3,"familyId":3})"), Errc::expected_integer,
       "param.messageFamId"},
      {env("COMMENT_MESSAGE", R"({"messageFamId":29001,"authorId":-1,"familyId":3})"), Errc::out_of_range,
       "param.authorId"},
      {env("PHOTO_CREATE", R"({"photoId":5120.0,"authorId":12,"familyId":3})"), Errc::expected_integer, "param.photoId"},
      {env("PHOTO_CREATE", R"({"photoId":5120,"authorId":12,"familyId":9223372036854775808})"), Errc::out_of_range,
       "param.familyId"},
      {env("COMMENT_PHOTO", R"({"photoId":1e3,"authorId":14,"familyId":3})"), Errc::expected_integer, "param.photoId"},
      {env("COMMENT_PHOTO", R"({"photoId":5120,"authorId":true,"familyId":3})"), Errc::expected_integer,
       "param.authorId"},
      {env("LETTER_SEND", R"({"letterId":-0,"isTimeCapsule":false,"familyId":3,"receiverId":12})"), Errc::out_of_range,
       "param.letterId"},
      {env("LETTER_SEND", R"({"letterId":881,"isTimeCapsule":false,"familyId":3,"receiverId":null})"),
       Errc::expected_integer, "param.receiverId"},
      {env("EMOTION_CHOSEN", R"({"familyId":0,"userId":12})"), Errc::out_of_range, "param.familyId"},
      {env("EMOTION_POKE", R"({"familyId":3,"userId":3.5})"), Errc::expected_integer, "param.userId"},
      {env("PEDIA_QUESTION_CREATED", R"({"familyId":3,"ownerId":"12"})"), Errc::expected_integer, "param.ownerId"},
      {env("PEDIA_QUESTION_EDITTED", R"({"familyId":-9223372036854775809,"ownerId":12})"), Errc::out_of_range,
       "param.familyId"},
      {env("PEDIA_ANSWER", R"({"familyId":3,"ownerId":[12]})"), Errc::expected_integer, "param.ownerId"},
      {env("PEDIA_EDIT_PHOTO", R"({"familyId":3,"ownerId":14,"editorId":{}})"), Errc::expected_integer,
       "param.editorId"},
      {env("PEDIA_EDIT_PHOTO", R"({"familyId":3,"ownerId":14})"), Errc::missing_field, "param.editorId"},
      {env("EMOTION_CHOSEN", R"({"familyId":3})"), Errc::missing_field, "param.userId"},
      {env("COMMENT_PHOTO", R"({"authorId":14,"familyId":3})"), Errc::missing_field, "param.photoId"},

      // ---- isTimeCapsule ----
      {env("LETTER_SEND", replace_at(letter_send, "1")), Errc::expected_boolean, "param.isTimeCapsule"},
      {env("LETTER_SEND", replace_at(letter_send, R"("true")")), Errc::expected_boolean, "param.isTimeCapsule"},
      {env("LETTER_SEND", replace_at(letter_send, "null")), Errc::expected_boolean, "param.isTimeCapsule"},
      {env("LETTER_SEND", replace_at(letter_send, "0")), Errc::expected_boolean, "param.isTimeCapsule"},
      {env("LETTER_SEND", R"({"letterId":881,"familyId":3,"receiverId":12})"), Errc::missing_field,
       "param.isTimeCapsule"},

      // ---- previews ----
      {env("COMMENT_MESSAGE", replace_at(comment_message, "5")), Errc::expected_string, "param.commentPreview"},
      {env("COMMENT_MESSAGE", replace_at(comment_message, R"(["hi"])")), Errc::expected_string, "param.commentPreview"},
      {env("COMMENT_MESSAGE", replace_at(comment_message, "{}")), Errc::expected_string, "param.commentPreview"},
      {env("COMMENT_PHOTO", replace_at(comment_photo, "false")), Errc::expected_string, "param.commentPreview"},
      {env("COMMENT_PHOTO", replace_at(comment_photo, "[]")), Errc::expected_string, "param.commentPreview"},
      {env("PHOTO_CREATE", replace_at(photo_create, "12.5")), Errc::expected_string, "param.titlePreview"},
      {env("PHOTO_CREATE", replace_at(photo_create, "[1,2]")), Errc::expected_string, "param.titlePreview"},
      {env("COMMENT_MESSAGE", replace_at(comment_message, long_ascii)), Errc::too_long, "param.commentPreview"},
      {env("PHOTO_CREATE", replace_at(photo_create, long_korean)), Errc::too_long, "param.titlePreview"},
      {env("COMMENT_PHOTO", replace_at(comment_photo, long_escaped)), Errc::too_long, "param.commentPreview"},
      {env("COMMENT_MESSAGE", replace_at(comment_message, "\"\xFF\"")), Errc::invalid_utf8, "param.commentPreview"},
      {env("COMMENT_PHOTO", replace_at(comment_photo, "\"\xEC\x95\"")), Errc::invalid_utf8, "param.commentPreview"},
      {env("PHOTO_CREATE", replace_at(photo_create, "\"\xC0\xAF\"")), Errc::invalid_utf8, "param.titlePreview"},
      {env("PHOTO_CREATE", replace_at(photo_create, "\"\xED\xA0\x80\"")), Errc::invalid_utf8, "param.titlePreview"},
      {env("COMMENT_MESSAGE", replace_at(comment_message, "\"\\n\xF4\x90\x80\x80\"")), Errc::invalid_utf8,
       "param.commentPreview"},

      // ---- arrays ----
      {env("MESSAGE_TODAY", R"({"familyIds":[]})"), Errc::empty_array, "param.familyIds"},
      {env("MESSAGE_BIRTHDAY", R"({"familyIds":[ ]})"), Errc::empty_array, "param.familyIds"},
      {env("MESSAGE_TODAY", R"({"familyIds":3})"), Errc::expected_array, "param.familyIds"},
      {env("MESSAGE_TODAY", R"({"familyIds":"1,2"})"), Errc::expected_array, "param.familyIds"},
      {env("MESSAGE_BIRTHDAY", R"({"familyIds":{"0":1}})"), Errc::expected_array, "param.familyIds"},
      {env("MESSAGE_BIRTHDAY", R"({"familyIds":null})"), Errc::expected_array, "param.familyIds"},
      {env("MESSAGE_TODAY", R"({"familyIds":)" + id_list(1001) + "}"), Errc::too_many_items, "param.familyIds"},
      {env("MESSAGE_BIRTHDAY", R"({"familyIds":)" + id_list(5000) + "}"), Errc::too_many_items, "param.familyIds"},
      {env("MESSAGE_TODAY", R"({"familyIds":[1,2,3,"4"]})"), Errc::expected_integer, "param.familyIds[3]"},
      {env("TIMECAPSULE_OPEN", R"({"timaCapsules":[]})"), Errc::empty_array, "param.timaCapsules"},
      {env("TIMECAPSULE_OPEN", R"({"timaCapsules":{}})"), Errc::expected_array, "param.timaCapsules"},
      {env("TIMECAPSULE_OPEN", R"({"timaCapsules":)" + capsule + "}"), Errc::expected_array, "param.timaCapsules"},
      {env("TIMECAPSULE_OPEN", R"({"timaCapsules":)" + capsule_list(1001) + "}"), Errc::too_many_items,
       "param.timaCapsules"},
      {env("TIMECAPSULE_OPEN", R"({"timaCapsules":[)" + capsule + "," + capsule +
                                   R"(,{"letterId":1,"receiverId":2,"senderId":"3","familyId":4}]})"),
       Errc::expected_integer, "param.timaCapsules[2].senderId"},
      {env("TIMECAPSULE_OPEN", R"({"timaCapsules":[)" + capsule + R"(,{"letterId":1,"receiverId":2,"senderId":3}]})"),
       Errc::missing_field, "param.timaCapsules[1].familyId"},
      {env("TIMECAPSULE_OPEN", R"({"timaCapsules":[1]})"), Errc::expected_object, "param.timaCapsules[0]"},
      {env("TIMECAPSULE_OPEN", R"({"timaCapsules":[)" + capsule + ",null]}"), Errc::expected_object,
       "param.timaCapsules[1]"},
      {env("TIMECAPSULE_OPEN", R"({"timaCapsules":[)" + capsule + "," + capsule + ",[" + capsule + "]]}"),
       Errc::expected_object, "param.timaCapsules[2]"},
      {env("NOTIFY_BIRTHDAY", R"({"familyIdsWithBirthdayUserId":[]})"), Errc::empty_array,
       "param.familyIdsWithBirthdayUserId"},
      {env("NOTIFY_BIRTHDAY", R"({"familyIdsWithBirthdayUserId":[3,14]})"), Errc::expected_object,
       "param.familyIdsWithBirthdayUserId[0]"},
      {env("NOTIFY_BIRTHDAY", R"({"familyIdsWithBirthdayUserId":[{"familyId":3,"birthdayUserId":14},"x"]})"),
       Errc::expected_object, "param.familyIdsWithBirthdayUserId[1]"},
      {env("NOTIFY_BIRTHDAY",
           R"({"familyIdsWithBirthdayUserId":[{"familyId":3,"birthdayUserId":14},{"familyId":17,"birthdayUserId":0}]})"),
       Errc::out_of_range, "param.familyIdsWithBirthdayUserId[1].birthdayUserId"},
      {env("NOTIFY_BIRTHDAY", R"({"familyIdsWithBirthdayUserId":[{"familyId":3}]})"), Errc::missing_field,
       "param.familyIdsWithBirthdayUserId[0].birthdayUserId"},
      {env("NOTIFY_BIRTHDAY", R"({"familyIdsWithBirthdayUserId":{"familyId":3,"birthdayUserId":14}})"),
       Errc::expected_array, "param.familyIdsWithBirthdayUserId"},

      // ---- duplicate keys ----
      {R"({"type":"EMOTION_POKE","type":"EMOTION_CHOSEN")" + ok_tail, Errc::duplicate_field, "type"},
      {R"({"type":"EMOTION_POKE","param":{"familyId":3,"userId":14},"param":{"familyId":3,"userId":14}})",
       Errc::duplicate_field, "param"},
      {env("EMOTION_POKE", R"({"familyId":3,"userId":14,"familyId":4})"), Errc::duplicate_field, "param.familyId"},
      {env("EMOTION_POKE", R"({"familyId":3,"userId":14,"famil\u0079Id":3})"), Errc::duplicate_field,
       "param.familyId"},
      {env("COMMENT_MESSAGE", R"({"messageFamId":1,"authorId":2,"familyId":3,"commentPreview":null,"commentPreview":"x"})"),
       Errc::duplicate_field, "param.commentPreview"},
      {env("TIMECAPSULE_OPEN", R"({"timaCapsules":[{"letterId":1,"letterId":1,"receiverId":2,"senderId":3,"familyId":4}]})"),
       Errc::duplicate_field, "param.timaCapsules[0].letterId"},
      {env("MESSAGE_TODAY", R"({"familyIds":[1],"familyIds":[2]})"), Errc::duplicate_field, "param.familyIds"},
      {emotion_poke.substr(0, emotion_poke.size() - 1) + R"(,"id":"a","id":"b"})", Errc::duplicate_field, "id"},
      {emotion_poke.substr(0, emotion_poke.size() - 1) + R"(,"createdAt":1,"createdAt":2})", Errc::duplicate_field,
       "createdAt"},

      // ---- envelope id and createdAt ----
      {emotion_poke.substr(0, emotion_poke.size() - 1) + R"(,"id":"a b"})", Errc::invalid_value, "id"},
      {emotion_poke.substr(0, emotion_poke.size() - 1) + R"(,"id":"req/1"})", Errc::invalid_value, "id"},
      {emotion_poke.substr(0, emotion_poke.size() - 1) + R"(,"id":"요청-1"})", Errc::invalid_value, "id"},
      {emotion_poke.substr(0, emotion_poke.size() - 1) + R"(,"id":"a\u0000b"})", Errc::invalid_value, "id"},
      {emotion_poke.substr(0, emotion_poke.size() - 1) + R"(,"id":""})", Errc::invalid_value, "id"},
      {emotion_poke.substr(0, emotion_poke.size() - 1) + R"(,"id":")" + std::string(129, 'a') + "\"}", Errc::too_long,
       "id"},
      {emotion_poke.substr(0, emotion_poke.size() - 1) + R"(,"id":42})", Errc::expected_string, "id"},
      {emotion_poke.substr(0, emotion_poke.size() - 1) + R"(,"id":["a"]})", Errc::expected_string, "id"},
      {emotion_poke.substr(0, emotion_poke.size() - 1) + R"(,"id":")" "\xFF" R"("})", Errc::invalid_utf8, "id"},
      {emotion_poke.substr(0, emotion_poke.size() - 1) + R"(,"createdAt":"1714532400000"})", Errc::expected_integer,
       "createdAt"},
      {emotion_poke.substr(0, emotion_poke.size() - 1) + R"(,"createdAt":1714532400000.5})", Errc::expected_integer,
       "createdAt"},
      {emotion_poke.substr(0, emotion_poke.size() - 1) + R"(,"createdAt":1.7145324e12})", Errc::expected_integer,
       "createdAt"},
      {emotion_poke.substr(0, emotion_poke.size() - 1) + R"(,"createdAt":-1})", Errc::out_of_range, "createdAt"},
      {emotion_poke.substr(0, emotion_poke.size() - 1) + R"(,"createdAt":0})", Errc::out_of_range, "createdAt"},
      {emotion_poke.substr(0, emotion_poke.size() - 1) + R"(,"createdAt":99999999999999999999})", Errc::out_of_range,
       "createdAt"},
      {emotion_poke.substr(0, emotion_poke.size() - 1) + R"(,"createdAt":true})", Errc::expected_integer, "createdAt"},
  };
}

/// A param template per id field of every type: '@' is where the bad value goes.
struct IdSlot {
  std::string_view type;
  std::string_view param;
  std::string_view path;
};

constexpr IdSlot id_slots[] = {
    {"MESSAGE_TODAY", R"({"familyIds":[3,@,42]})", "param.familyIds[1]"},
    {"MESSAGE_BIRTHDAY", R"({"familyIds":[@]})", "param.familyIds[0]"},
    {"COMMENT_MESSAGE", R"({"messageFamId":@,"authorId":3,"familyId":3,"commentPreview":"hi"})", "param.messageFamId"},
    {"COMMENT_MESSAGE", R"({"messageFamId":29001,"authorId":@,"familyId":3})", "param.authorId"},
    {"COMMENT_MESSAGE", R"({"messageFamId":29001,"authorId":3,"familyId":@})", "param.familyId"},
    {"PHOTO_CREATE", R"({"photoId":@,"authorId":12,"familyId":3})", "param.photoId"},
    {"PHOTO_CREATE", R"({"photoId":5120,"authorId":@,"familyId":3,"titlePreview":"t"})", "param.authorId"},
    {"PHOTO_CREATE", R"({"photoId":5120,"authorId":12,"familyId":@})", "param.familyId"},
    {"COMMENT_PHOTO", R"({"photoId":@,"authorId":14,"familyId":3})", "param.photoId"},
    {"COMMENT_PHOTO", R"({"photoId":5120,"authorId":@,"familyId":3})", "param.authorId"},
    {"COMMENT_PHOTO", R"({"photoId":5120,"authorId":14,"familyId":@,"commentPreview":null})", "param.familyId"},
    {"LETTER_SEND", R"({"letterId":@,"isTimeCapsule":true,"familyId":3,"receiverId":12})", "param.letterId"},
    {"LETTER_SEND", R"({"letterId":881,"isTimeCapsule":false,"familyId":@,"receiverId":12})", "param.familyId"},
    {"LETTER_SEND", R"({"letterId":881,"isTimeCapsule":false,"familyId":3,"receiverId":@})", "param.receiverId"},
    {"TIMECAPSULE_OPEN",
     R"({"timaCapsules":[{"letterId":1,"receiverId":2,"senderId":3,"familyId":4},{"letterId":@,"receiverId":2,"senderId":3,"familyId":4}]})",
     "param.timaCapsules[1].letterId"},
    {"TIMECAPSULE_OPEN", R"({"timaCapsules":[{"letterId":1,"receiverId":@,"senderId":3,"familyId":4}]})",
     "param.timaCapsules[0].receiverId"},
    {"TIMECAPSULE_OPEN",
     R"({"timaCapsules":[{"letterId":1,"receiverId":2,"senderId":3,"familyId":4},{"letterId":1,"receiverId":2,"senderId":3,"familyId":4},{"letterId":1,"receiverId":2,"senderId":@,"familyId":4}]})",
     "param.timaCapsules[2].senderId"},
    {"TIMECAPSULE_OPEN", R"({"timaCapsules":[{"familyId":@,"letterId":1,"receiverId":2,"senderId":3}]})",
     "param.timaCapsules[0].familyId"},
    {"NOTIFY_BIRTHDAY", R"({"familyIdsWithBirthdayUserId":[{"familyId":@,"birthdayUserId":14}]})",
     "param.familyIdsWithBirthdayUserId[0].familyId"},
    {"NOTIFY_BIRTHDAY",
     R"({"familyIdsWithBirthdayUserId":[{"familyId":3,"birthdayUserId":14},{"familyId":17,"birthdayUserId":@}]})",
     "param.familyIdsWithBirthdayUserId[1].birthdayUserId"},
    {"EMOTION_CHOSEN", R"({"familyId":@,"userId":12})", "param.familyId"},
    {"SERVICE_NOTICE", R"({"familyIds":[3,@],"title":"t","body":"b","marketing":false})", "param.familyIds[1]"},
    {"EMOTION_CHOSEN", R"({"familyId":3,"userId":@})", "param.userId"},
    {"EMOTION_POKE", R"({"familyId":@,"userId":14})", "param.familyId"},
    {"EMOTION_POKE", R"({"userId":@,"familyId":3})", "param.userId"},
    {"PEDIA_QUESTION_CREATED", R"({"familyId":@,"ownerId":12})", "param.familyId"},
    {"PEDIA_QUESTION_CREATED", R"({"familyId":3,"ownerId":@})", "param.ownerId"},
    {"PEDIA_QUESTION_EDITTED", R"({"familyId":@,"ownerId":12})", "param.familyId"},
    {"PEDIA_QUESTION_EDITTED", R"({"familyId":3,"ownerId":@})", "param.ownerId"},
    {"PEDIA_ANSWER", R"({"familyId":@,"ownerId":14})", "param.familyId"},
    {"PEDIA_ANSWER", R"({"familyId":3,"ownerId":@})", "param.ownerId"},
    {"PEDIA_EDIT_PHOTO", R"({"familyId":@,"ownerId":14,"editorId":12})", "param.familyId"},
    {"PEDIA_EDIT_PHOTO", R"({"familyId":3,"ownerId":@,"editorId":12})", "param.ownerId"},
    {"PEDIA_EDIT_PHOTO", R"({"familyId":3,"ownerId":14,"editorId":@})", "param.editorId"},
};

struct BadId {
  std::string_view value;
  Errc code;
};

constexpr BadId bad_ids[] = {
    {R"("3")", Errc::expected_integer},
    {"3.5", Errc::expected_integer},
    {"3.0", Errc::expected_integer},
    {"1e3", Errc::expected_integer},
    {"1E3", Errc::expected_integer},
    {"-3.5", Errc::expected_integer},
    {"true", Errc::expected_integer},
    {"false", Errc::expected_integer},
    {"null", Errc::expected_integer},
    {"[3]", Errc::expected_integer},
    {R"({"id":3})", Errc::expected_integer},
    {"0", Errc::out_of_range},
    {"-1", Errc::out_of_range},
    {"-0", Errc::out_of_range},
    {"9223372036854775808", Errc::out_of_range},
    {"18446744073709551616", Errc::out_of_range},
    {"-9223372036854775808", Errc::out_of_range},
};

}  // namespace

TEST_CASE("every bad input in the table is rejected with its code and path") {
  const auto rows = bad_rows();
  CHECK(rows.size() >= 70);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    CAPTURE(i);
    INFO("body: ", row.body.size() > 300 ? row.body.substr(0, 300) + "..." : row.body);
    INFO("expected: ", notify::to_string(row.code), " at '", row.path, "'");
    const auto r = notify::decode(row.body);
    REQUIRE_FALSE(r.has_value());
    INFO("got: ", describe(r.error()));
    const notify::Error* e = find_error(r.error(), row.code, row.path);
    REQUIRE(e != nullptr);
    CHECK_FALSE(e->message.empty());
    if (row.code == Errc::invalid_json || row.code == Errc::too_deep) {
      // A syntax error is the only error: nothing after it can be trusted.
      CHECK(r.error().size() == 1);
      CHECK(e->message.find("at byte ") != std::string::npos);
    }
    if (row.code == Errc::body_too_large) CHECK(r.error().size() == 1);
  }
}

TEST_CASE("every id field of every type rejects non-integers and values outside 1..INT64_MAX") {
  std::vector<std::string_view> types_covered;
  for (const auto& slot : id_slots) {
    types_covered.push_back(slot.type);
    for (const auto& bad : bad_ids) {
      const std::string body = env(slot.type, replace_at(slot.param, bad.value));
      CAPTURE(body);
      const auto r = notify::decode(body);
      REQUIRE_FALSE(r.has_value());
      INFO("got: ", describe(r.error()));
      REQUIRE(r.error().size() == 1);
      CHECK(r.error()[0].code == bad.code);
      CHECK(r.error()[0].path == slot.path);
    }
    // The same template with a good id decodes, so the failures above are the id's doing.
    const std::string good = env(slot.type, replace_at(slot.param, "9223372036854775807"));
    CAPTURE(good);
    CHECK(notify::decode(good).has_value());
  }
  for (const auto name : notify::type_names) {
    CAPTURE(name);
    CHECK(std::find(types_covered.begin(), types_covered.end(), name) != types_covered.end());
  }
}

TEST_CASE("a syntax error names the byte where it was found") {
  const std::string body = R"({"type":"MESSAGE_TODAY","param":{"familyIds":[1,2,]}})";
  const auto r = notify::decode(body);
  REQUIRE_FALSE(r.has_value());
  REQUIRE(r.error().size() == 1);
  CHECK(r.error()[0].code == Errc::invalid_json);
  CHECK(r.error()[0].message.find("at byte " + std::to_string(body.find(",]") + 1)) != std::string::npos);

  const auto empty = notify::decode("");
  REQUIRE_FALSE(empty.has_value());
  CHECK(empty.error()[0].message.find("at byte 0") != std::string::npos);

  const std::string garbage = R"({"type":"EMOTION_POKE","param":{"familyId":3,"userId":14}} x)";
  const auto g = notify::decode(garbage);
  REQUIRE_FALSE(g.has_value());
  CHECK(g.error()[0].message.find("at byte " + std::to_string(garbage.size() - 1)) != std::string::npos);
}

TEST_CASE("an unknown type is reported with the list of known type names") {
  const auto r = notify::decode(R"({"type":"MESSAGE_TOMORROW","param":{"familyIds":[1]}})");
  REQUIRE_FALSE(r.has_value());
  REQUIRE(r.error().size() == 1);
  const auto& e = r.error()[0];
  CHECK(e.code == Errc::unknown_type);
  CHECK(e.path == "type");
  CHECK(e.message.find("MESSAGE_TOMORROW") != std::string::npos);
  for (const auto name : notify::type_names) {
    CAPTURE(name);
    CHECK(e.message.find(name) != std::string::npos);
  }
}

TEST_CASE("an unknown type name is cleaned and shortened before it is echoed") {
  const std::string name = "\xE2\x80\xAE" "EVIL\\n" + std::string(500, 'X');
  const auto r = notify::decode(R"({"type":")" + name + R"(","param":{}})");
  REQUIRE_FALSE(r.has_value());
  const auto& e = r.error().at(0);
  CHECK(e.code == Errc::unknown_type);
  CHECK(e.message.find("\xE2\x80\xAE") == std::string::npos);  // no bidi override
  CHECK(e.message.find('\n') == std::string::npos);
  CHECK(e.message.find("EVIL") != std::string::npos);
  CHECK(e.message.find(std::string(100, 'X')) == std::string::npos);
}

TEST_CASE("one record with several problems reports all of them") {
  const std::string body =
      R"({"type":"COMMENT_MESSAGE","id":"bad id!","createdAt":-3,)"
      R"("param":{"messageFamId":"29001","authorId":0,"commentPreview":5,"authorId":7}})";
  const auto r = notify::decode(body);
  REQUIRE_FALSE(r.has_value());
  const auto& errors = r.error();
  INFO(describe(errors));
  CHECK(errors.size() == 7);
  CHECK(find_error(errors, Errc::invalid_value, "id"));
  CHECK(find_error(errors, Errc::out_of_range, "createdAt"));
  CHECK(find_error(errors, Errc::expected_integer, "param.messageFamId"));
  CHECK(find_error(errors, Errc::out_of_range, "param.authorId"));
  CHECK(find_error(errors, Errc::duplicate_field, "param.authorId"));
  CHECK(find_error(errors, Errc::expected_string, "param.commentPreview"));
  CHECK(find_error(errors, Errc::missing_field, "param.familyId"));

  // The same record with param before type reports the same set.
  const std::string param_first =
      R"({"param":{"messageFamId":"29001","authorId":0,"commentPreview":5,"authorId":7},)"
      R"("id":"bad id!","createdAt":-3,"type":"COMMENT_MESSAGE"})";
  const auto p = notify::decode(param_first);
  REQUIRE_FALSE(p.has_value());
  CHECK(p.error().size() == errors.size());
  for (const auto& e : errors) {
    CAPTURE(e.path);
    CHECK(find_error(p.error(), e.code, e.path));
  }
}

TEST_CASE("problems in several array items are all reported with their indexes") {
  const std::string body = env(
      "TIMECAPSULE_OPEN",
      R"({"timaCapsules":[{"letterId":0,"receiverId":2,"senderId":3,"familyId":4},)"
      R"({"letterId":1,"receiverId":2,"senderId":"x","familyId":4},5,)"
      R"({"letterId":1,"receiverId":2,"senderId":3},{"letterId":1,"receiverId":2,"senderId":3,"familyId":4}]})");
  const auto r = notify::decode(body);
  REQUIRE_FALSE(r.has_value());
  const auto& errors = r.error();
  INFO(describe(errors));
  CHECK(errors.size() == 4);
  CHECK(find_error(errors, Errc::out_of_range, "param.timaCapsules[0].letterId"));
  CHECK(find_error(errors, Errc::expected_integer, "param.timaCapsules[1].senderId"));
  CHECK(find_error(errors, Errc::expected_object, "param.timaCapsules[2]"));
  CHECK(find_error(errors, Errc::missing_field, "param.timaCapsules[3].familyId"));

  const auto ids = notify::decode(env("MESSAGE_TODAY", R"({"familyIds":[0,"2",3,-4,5.5]})"));
  REQUIRE_FALSE(ids.has_value());
  CHECK(ids.error().size() == 4);
  CHECK(find_error(ids.error(), Errc::out_of_range, "param.familyIds[0]"));
  CHECK(find_error(ids.error(), Errc::expected_integer, "param.familyIds[1]"));
  CHECK(find_error(ids.error(), Errc::out_of_range, "param.familyIds[3]"));
  CHECK(find_error(ids.error(), Errc::expected_integer, "param.familyIds[4]"));
}

TEST_CASE("an over-long array is reported once, not once per extra item") {
  const auto r = notify::decode(env("MESSAGE_TODAY", R"({"familyIds":)" + id_list(3000) + "}"));
  REQUIRE_FALSE(r.has_value());
  REQUIRE(r.error().size() == 1);
  CHECK(r.error()[0].code == Errc::too_many_items);
  CHECK(r.error()[0].path == "param.familyIds");
}

TEST_CASE("missing type and missing param are both reported") {
  const auto r = notify::decode(R"({"id":"a"})");
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().size() == 2);
  CHECK(find_error(r.error(), Errc::missing_field, "type"));
  CHECK(find_error(r.error(), Errc::missing_field, "param"));
}
