// SPDX-License-Identifier: MIT
// The main of every doctest binary. ctest runs each TEST_CASE as `--test-case=<name>`;
// doctest answers "0 test cases, success" when that filter matches nothing (a name that
// CMake's list syntax split at a ';' once hid 17 tests this way). So a run with a test
// case filter that matched no test case fails here.

#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <string_view>

namespace {

unsigned matched = 0;  ///< test cases that passed the filters in the last run

/// Keeps the number of test cases the filters let through.
struct MatchCounter : doctest::IReporter {
  explicit MatchCounter(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats& stats) override { matched = stats.numTestCasesPassingFilters; }
  void test_case_start(const doctest::TestCaseData&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};
REGISTER_LISTENER("match_counter", 1, MatchCounter);

/// An option's name and value as doctest reads them: any number of leading dashes and an
/// optional "dt-" prefix ("--tc=x", "-test-case=x", "--dt-tc=x" are all the same option).
std::string_view option_of(std::string_view arg) {
  while (arg.starts_with('-')) arg.remove_prefix(1);
  if (arg.starts_with("dt-")) arg.remove_prefix(3);
  return arg;
}

/// True when the run was asked for named test cases (and is not a --no-run).
bool names_test_cases(int argc, char** argv) {
  bool named = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view option = option_of(argv[i]);
    if (option == "no-run" || option == "nr" || option.starts_with("no-run=") || option.starts_with("nr=")) return false;
    for (std::string_view flag : {"test-case=", "tc="})
      if (option.starts_with(flag) && option.size() > flag.size()) named = true;
  }
  return named;
}

}  // namespace

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  const int status = context.run();
  if (context.shouldExit()) return status;  // --help, --list-test-cases and the like
  if (status == 0 && matched == 0 && names_test_cases(argc, argv)) {
    std::fprintf(stderr, "doctest: no test case matches the --test-case filter: nothing was tested\n");
    return 1;
  }
  return status;
}
