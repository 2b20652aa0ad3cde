# The Debian packages CPack makes (lib/package/debian.cmake), checked with
# dpkg-deb: their names and dependencies, their contents, and the
# executables of `conflux`, unpacked into a scratch root, run.
# Given SOURCE_DIR, BUILD_DIR, VERSION, PROGRAMS (the executables,
# comma-separated) and CPACK.
include(${CMAKE_CURRENT_LIST_DIR}/package_steps.cmake)
make_scratch(deb-test)

run(${CPACK} -G DEB --config "${BUILD_DIR}/CPackConfig.cmake" -B "${scratch}")
file(GLOB runtime "${scratch}/conflux_${VERSION}_*.deb")
file(GLOB development "${scratch}/libconflux-dev_${VERSION}_*.deb")
if(NOT runtime OR NOT development)
  file(GLOB made "${scratch}/*.deb")
  message(FATAL_ERROR "expected conflux_${VERSION}_*.deb and libconflux-dev_${VERSION}_*.deb, made: ${made}")
endif()

# Dependencies by Debian's package names: found by dpkg-shlibdeps for the
# executables, listed for the headers.
run(dpkg-deb --field "${runtime}" Depends)
foreach(needed libssl3 libhiredis libc6 openssl)
  if(NOT output MATCHES "${needed}")
    message(FATAL_ERROR "conflux's Depends lacks ${needed}: ${output}")
  endif()
endforeach()
run(dpkg-deb --field "${development}" Depends)
foreach(needed libboost1.81-dev libssl-dev libhiredis-dev)
  if(NOT output MATCHES "${needed}")
    message(FATAL_ERROR "libconflux-dev's Depends lacks ${needed}: ${output}")
  endif()
endforeach()

run(dpkg-deb --field "${development}" Installed-Size)
string(STRIP "${output}" kib)
if(NOT kib MATCHES "^[0-9]+$" OR kib GREATER 100000)  # the archives lost their debug information
  message(FATAL_ERROR "libconflux-dev installs ${kib} KiB: its archives were not stripped")
endif()
run(dpkg-deb --contents "${development}")
foreach(file include/conflux/node.hpp include/conflux/version.hpp libconflux.a
             cmake/conflux/confluxConfig.cmake cmake/conflux/confluxConfigVersion.cmake
             pkgconfig/conflux.pc)
  if(NOT output MATCHES "/usr/[^ \n]*${file}")
    message(FATAL_ERROR "libconflux-dev lacks ${file}:\n${output}")
  endif()
endforeach()

run(dpkg-deb --extract "${runtime}" "${scratch}/root")
check_versions("${scratch}/root/usr/bin" "${PROGRAMS}")
run("${scratch}/root/usr/bin/conflux-make-dev-certs" "${scratch}/certs" n1)
if(NOT EXISTS "${scratch}/certs/n1.pem")
  message(FATAL_ERROR "conflux-make-dev-certs made no n1.pem")
endif()
file(REMOVE_RECURSE "${scratch}")
