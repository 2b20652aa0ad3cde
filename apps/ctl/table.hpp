#pragma once
// conflux-ctl's table output: columns padded to their widest cell.

#include <boost/json/value.hpp>
#include <ostream>
#include <string>
#include <vector>

namespace conflux::ctl {

using Row = std::vector<std::string>;

/// The header, then each row, columns two spaces apart (the last unpadded).
void print_table(std::ostream& out, const Row& header, const std::vector<Row>& rows);

/// A cell: a string as it is, anything else as JSON text ("" for null).
std::string plain(const boost::json::value& value);

}  // namespace conflux::ctl
