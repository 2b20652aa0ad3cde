// The one translation unit that compiles Boost's separately-compiled sources
// (Asio and JSON), so the rest of the build only parses their headers.
#include <boost/asio/impl/src.hpp>
#include <boost/json/src.hpp>
