// The one translation unit that compiles Boost's separately-compiled sources
// (Asio, Beast and JSON), so the rest of the build only parses their headers.
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
#include <boost/json/src.hpp>
