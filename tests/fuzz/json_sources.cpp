// Boost.JSON's compiled sources for the fuzz build (the transport library
// compiles them together with Asio's, which the fuzz targets don't need).
#include <boost/json/src.hpp>
