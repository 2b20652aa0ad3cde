// The one translation unit that compiles Asio's and Beast's separately-
// compiled sources, so the rest of the build only parses their headers
// (Boost.JSON's are in boost_json_source.cpp, which WebAssembly builds too).
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
