// Boost.JSON's separately-compiled sources, in one translation unit: the
// native libraries and the WebAssembly engine (tests/wasm) both compile it.
#include <boost/json/src.hpp>
