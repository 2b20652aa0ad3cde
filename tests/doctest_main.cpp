#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <iostream>
#include <mutex>
#include <string>
#include <vector>

namespace {

// Repeats every failed assertion, briefly, at the very end of the run. The
// process tests log whole node logs with a failure, and CI keeps only the
// head and the tail of a long output: without this, the line that says what
// failed can be cut away.
struct FailureSummary : doctest::IReporter {
  explicit FailureSummary(const doctest::ContextOptions&) {}

  void log_assert(const doctest::AssertData& data) override {
    if (!data.m_failed) return;
    std::string line = std::string(data.m_file) + ":" + std::to_string(data.m_line) + ": " +
                       (data.m_test_case ? data.m_test_case->m_name : "") + ": " + data.m_expr;
    std::string detail = data.m_threw ? data.m_exception.c_str() : data.m_decomp.c_str();
    if (detail.size() > 300) detail = detail.substr(0, 300) + "...";
    if (!detail.empty()) line += " -> " + detail;
    std::lock_guard lock(mutex_);
    failures_.push_back(std::move(line));
  }
  void test_run_end(const doctest::TestRunStats&) override {
    if (failures_.empty()) return;
    std::cout << "\n=== failed assertions (" << failures_.size() << ") ===\n";
    for (const auto& failure : failures_) std::cout << failure << '\n';
  }

  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_case_start(const doctest::TestCaseData&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException& exception) override {
    std::lock_guard lock(mutex_);
    failures_.push_back(std::string("a test case threw: ") + exception.error_string.c_str());
  }
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}

 private:
  std::mutex mutex_;
  std::vector<std::string> failures_;
};

REGISTER_LISTENER("failure_summary", 1, FailureSummary);

}  // namespace
