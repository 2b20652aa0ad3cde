# CPack: two Debian packages, `cpack -G DEB` in the build directory.
#   conflux         conflux-node, conflux-hub, conflux-ctl, conflux-bench,
#                   conflux-make-dev-certs and the docs; its dependencies are
#                   found by dpkg-shlibdeps from the executables' libraries.
#   libconflux-dev  the headers, the static libraries, the CMake package and
#                   conflux.pc; it depends on the -dev packages they need.
set(CPACK_PACKAGE_NAME conflux)
set(CPACK_PACKAGE_VENDOR "The Conflux developers")
set(CPACK_PACKAGE_CONTACT "The Conflux developers <conflux@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_GENERATOR DEB)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime development)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME conflux)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_DEPENDS "openssl")  # conflux-make-dev-certs runs it
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_NAME libconflux-dev)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_DEPENDS
    "libboost1.81-dev, libssl-dev (>= 3), libhiredis-dev, pkg-config")
include(CPack)
