#include "apps/prometheus_text.hpp"

#include <cmath>
#include <cstdlib>
#include <set>

namespace conflux::test {
namespace {

bool name_start(char c, bool colon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
}

bool name_char(char c, bool colon) {
  return name_start(c, colon) || (c >= '0' && c <= '9');
}

/// Go's ParseFloat as Prometheus uses it: NaN, +Inf, -Inf or a number.
bool parse_value(std::string_view text, double& value) {
  if (text == "NaN" || text == "+Inf" || text == "-Inf") {
    value = text == "NaN" ? std::nan("") : text[0] == '+' ? INFINITY : -INFINITY;
    return true;
  }
  if (text.empty() || text.find_first_of(" \t") != std::string_view::npos) return false;
  const std::string copy(text);
  char* end = nullptr;
  value = std::strtod(copy.c_str(), &end);
  return end == copy.c_str() + copy.size();
}

/// The labels without `le`, as one key: one histogram series each.
std::string series_key(std::map<std::string, std::string> labels) {
  labels.erase("le");
  std::string key;
  for (const auto& [name, value] : labels) key += name + "=" + value + ";";
  return key;
}

/// Reads the exposition line by line, keeping what the rules need: which
/// family each line belongs to and which families' groups have ended.
class Reader {
 public:
  std::map<std::string, MetricFamily> read(std::string_view text);

 private:
  void line(std::string_view text);
  void comment(std::string_view text);
  void sample(std::string_view text);
  std::string read_name(std::string_view& text, bool colon);
  void read_labels(std::string_view& text, PrometheusSample& sample);
  std::string read_label_value(std::string_view& text);
  MetricFamily& family_of(const std::string& sample_name);
  void enter(const std::string& family);
  [[noreturn]] void fail(const std::string& why) const {
    throw ExpositionError("line " + std::to_string(line_number_) + ": " + why);
  }

  std::size_t line_number_ = 0;
  std::map<std::string, MetricFamily> families_;
  std::string current_;             // family of the latest line
  std::set<std::string> finished_;  // families whose lines have ended
  std::set<std::string> series_;    // name + labels of every sample so far
};

std::map<std::string, MetricFamily> Reader::read(std::string_view text) {
  if (!text.empty() && text.back() != '\n') fail("the last line does not end with \\n");
  while (!text.empty()) {
    const auto end = text.find('\n');
    ++line_number_;
    line(text.substr(0, end));
    text.remove_prefix(end + 1);
  }
  return std::move(families_);
}

void Reader::line(std::string_view text) {
  if (text.empty()) return;  // blank lines are allowed and mean nothing
  if (text.front() == '#') return comment(text);
  sample(text);
}

// "# HELP name text" and "# TYPE name type"; other comments are ignored.
void Reader::comment(std::string_view text) {
  text.remove_prefix(1);
  if (!text.starts_with(" HELP ") && !text.starts_with(" TYPE ")) return;
  const bool help = text.starts_with(" HELP ");
  text.remove_prefix(6);
  const auto name = read_name(text, true);
  if (!text.empty() && text.front() != ' ') fail("bad metric name in a HELP or TYPE line");
  if (!text.empty()) text.remove_prefix(1);
  enter(name);
  auto& family = families_[name];
  family.name = name;
  if (help) {
    if (!family.help.empty()) fail("a second HELP line for " + name);
    family.help = std::string(text);
    return;
  }
  static const std::set<std::string_view> types{"counter", "gauge", "histogram", "summary",
                                                "untyped"};
  if (!types.count(text)) fail("unknown type \"" + std::string(text) + "\"");
  if (!family.type.empty()) fail("a second TYPE line for " + name);
  if (!family.samples.empty()) fail("the TYPE line of " + name + " follows its samples");
  family.type = std::string(text);
}

void Reader::sample(std::string_view text) {
  PrometheusSample sample;
  sample.name = read_name(text, true);
  if (!text.empty() && text.front() == '{') read_labels(text, sample);
  if (text.empty() || text.front() != ' ') fail("expected a space before the value");
  const auto value_start = text.find_first_not_of(' ');
  if (value_start == std::string_view::npos) fail("missing value");
  text.remove_prefix(value_start);
  const auto blank = text.find(' ');
  if (!parse_value(text.substr(0, blank), sample.value))
    fail("bad value \"" + std::string(text.substr(0, blank)) + "\"");
  if (blank != std::string_view::npos) {  // an optional timestamp: an integer
    const auto stamp = text.substr(blank + 1);
    if (stamp.empty() || stamp.find_first_not_of("-0123456789") != std::string_view::npos)
      fail("bad timestamp \"" + std::string(stamp) + "\"");
  }
  if (!series_
           .insert(sample.name + "{" + series_key(sample.labels) +
                   "le=" + (sample.labels.count("le") ? sample.labels.at("le") : "") + "}")
           .second)
    fail("a second sample of " + sample.name + " with the same labels");
  auto& family = family_of(sample.name);
  enter(family.name);
  if (family.type == "counter" && !(sample.value >= 0)) fail("counter " + family.name + " < 0");
  family.samples.push_back(std::move(sample));
}

std::string Reader::read_name(std::string_view& text, bool colon) {
  if (text.empty() || !name_start(text.front(), colon)) fail("expected a name");
  std::size_t length = 1;
  while (length < text.size() && name_char(text[length], colon)) ++length;
  std::string name(text.substr(0, length));
  text.remove_prefix(length);
  return name;
}

// {name="value",...} with an optional trailing comma.
void Reader::read_labels(std::string_view& text, PrometheusSample& sample) {
  text.remove_prefix(1);
  while (!text.empty() && text.front() != '}') {
    const auto name = read_name(text, false);
    if (text.size() < 2 || text[0] != '=' || text[1] != '"') fail("expected =\" after " + name);
    text.remove_prefix(2);
    if (!sample.labels.emplace(name, read_label_value(text)).second)
      fail("label " + name + " given twice");
    if (!text.empty() && text.front() == ',')
      text.remove_prefix(1);
    else if (text.empty() || text.front() != '}')
      fail("expected , or } after a label");
  }
  if (text.empty()) fail("unterminated label set");
  text.remove_prefix(1);
}

// A quoted value; only \\, \" and \n may be escaped. The opening quote is
// already consumed.
std::string Reader::read_label_value(std::string_view& text) {
  std::string value;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '"') {
      text.remove_prefix(i + 1);
      return value;
    }
    if (text[i] == '\\') {
      if (++i == text.size()) break;
      if (text[i] != '\\' && text[i] != '"' && text[i] != 'n') fail("bad escape in a label");
      value += text[i] == 'n' ? '\n' : text[i];
    } else {
      value += text[i];
    }
  }
  fail("unterminated label value");
}

// A sample belongs to the family of its name, or (histograms, summaries) of
// its name less _bucket, _sum or _count; the family needs a TYPE line.
MetricFamily& Reader::family_of(const std::string& sample_name) {
  const auto found = families_.find(sample_name);
  if (found != families_.end() && !found->second.type.empty() &&
      found->second.type != "histogram" && found->second.type != "summary")
    return found->second;
  for (const std::string suffix : {"_bucket", "_sum", "_count"}) {
    if (!sample_name.ends_with(suffix)) continue;
    const auto base = families_.find(sample_name.substr(0, sample_name.size() - suffix.size()));
    if (base == families_.end()) continue;
    const auto& type = base->second.type;
    if (type == "histogram" || (type == "summary" && suffix != "_bucket")) return base->second;
  }
  fail("no TYPE line declares the family of " + sample_name);
}

// A family's lines must form one group.
void Reader::enter(const std::string& family) {
  if (family == current_) return;
  if (finished_.count(family)) fail("the lines of " + family + " are not contiguous");
  if (!current_.empty()) finished_.insert(current_);
  current_ = family;
}

double le_of(const PrometheusSample& bucket) {
  double le = 0;
  const auto found = bucket.labels.find("le");
  if (found == bucket.labels.end() || !parse_value(found->second, le))
    throw ExpositionError(bucket.name + " has no valid le label");
  return le;
}

void check_series(const MetricFamily& family, const std::string& key,
                  const std::vector<const PrometheusSample*>& buckets) {
  const auto where = family.name + "{" + key + "}";
  for (std::size_t i = 1; i < buckets.size(); ++i) {
    if (!(le_of(*buckets[i]) > le_of(*buckets[i - 1])))
      throw ExpositionError(where + ": le bounds not increasing");
    if (buckets[i]->value < buckets[i - 1]->value)
      throw ExpositionError(where + ": buckets not cumulative");
  }
  if (buckets.empty() || !std::isinf(le_of(*buckets.back())))
    throw ExpositionError(where + ": the last bucket is not le=\"+Inf\"");
  const PrometheusSample* count = nullptr;
  bool sum = false;
  for (const auto& s : family.samples) {
    if (series_key(s.labels) != key || s.labels.count("le")) continue;
    if (s.name == family.name + "_count") count = &s;
    sum = sum || s.name == family.name + "_sum";
  }
  if (!count || !sum) throw ExpositionError(where + ": _count or _sum missing");
  if (count->value != buckets.back()->value)
    throw ExpositionError(where + ": le=\"+Inf\" differs from _count");
}

void check_histogram(const MetricFamily& family) {
  std::map<std::string, std::vector<const PrometheusSample*>> buckets;
  for (const auto& s : family.samples) {
    if (s.name == family.name + "_bucket") buckets[series_key(s.labels)].push_back(&s);
  }
  for (const auto& [key, series] : buckets) check_series(family, key, series);
}

}  // namespace

double MetricFamily::value(const std::string& sample_name,
                           const std::map<std::string, std::string>& labels) const {
  for (const auto& s : samples) {
    if (s.name == sample_name && s.labels == labels) return s.value;
  }
  throw std::out_of_range("no sample " + sample_name + " with those labels in " + name);
}

std::map<std::string, MetricFamily> parse_prometheus_text(std::string_view text) {
  auto families = Reader().read(text);
  for (const auto& [name, family] : families) {
    if (family.type.empty()) throw ExpositionError(name + " has HELP but no TYPE line");
    if (family.type == "histogram") check_histogram(family);
  }
  return families;
}

}  // namespace conflux::test
