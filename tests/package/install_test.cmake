# cmake --install, checked from outside the source tree:
#   1. install (stripped) into a scratch prefix, then move it elsewhere:
#      the package must be relocatable, and name no path of ours, and its
#      archives must have lost their debug information;
#   2. apps/examples/consumer, copied out, finds it with find_package,
#      builds and runs;
#   3. the same program builds with pkg-config's flags alone, and runs;
#   4. the installed executables answer --version.
# Given SOURCE_DIR, BUILD_DIR, VERSION, PROGRAMS (the executables,
# comma-separated), CXX and GENERATOR.
include(${CMAKE_CURRENT_LIST_DIR}/package_steps.cmake)
make_scratch(install-test)

run(${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${scratch}/staged" --strip)
file(RENAME "${scratch}/staged" "${scratch}/moved")
set(prefix "${scratch}/moved")
check_no_tree_paths("${prefix}" "${scratch}/staged")
# --strip drops the archives' debug information (some 250 MB of Asio's and
# Beast's in libconflux_transport.a alone); what links stays (below).
file(GLOB_RECURSE transport_archive "${prefix}/libconflux_transport.a")
file(SIZE "${transport_archive}" transport_bytes)
if(transport_bytes GREATER 100000000)
  message(FATAL_ERROR "${transport_archive} holds ${transport_bytes} bytes: --strip did not strip it")
endif()

file(COPY "${SOURCE_DIR}/apps/examples/consumer" DESTINATION "${scratch}")
run(${CMAKE_COMMAND} -S "${scratch}/consumer" -B "${scratch}/consumer-build" -G "${GENERATOR}"
    -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_EXPORT_COMPILE_COMMANDS=ON)
run(${CMAKE_COMMAND} --build "${scratch}/consumer-build")
file(READ "${scratch}/consumer-build/compile_commands.json" commands)
string(FIND "${commands}" "${SOURCE_DIR}" at)
if(NOT at EQUAL -1)
  message(FATAL_ERROR "the consumer compiled with our source tree:\n${commands}")
endif()
run("${scratch}/consumer-build/consumer")
if(NOT output MATCHES "conflux ${VERSION}: the counter is at 6")
  message(FATAL_ERROR "the consumer printed: ${output}")
endif()

file(GLOB_RECURSE pc_file "${prefix}/conflux.pc")
list(GET pc_file 0 pc_file)
get_filename_component(pc_dir "${pc_file}" DIRECTORY)
run(${CMAKE_COMMAND} -E env PKG_CONFIG_PATH=${pc_dir} pkg-config --cflags --libs conflux)
separate_arguments(pc_flags UNIX_COMMAND "${output}")
run(${CXX} -std=c++20 "${scratch}/consumer/main.cpp" ${pc_flags} -o "${scratch}/consumer-pc")
run("${scratch}/consumer-pc")
if(NOT output MATCHES "conflux ${VERSION}: the counter is at 6")
  message(FATAL_ERROR "the consumer built with pkg-config printed: ${output}")
endif()

check_versions("${prefix}/bin" "${PROGRAMS}")
file(REMOVE_RECURSE "${scratch}")
