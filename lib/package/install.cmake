# cmake --install: the public headers, the static libraries with their CMake
# package (find_package(conflux CONFIG), relocatable and versioned) and a
# pkg-config file, the executables and the docs. Components: "development"
# (headers, libraries, package files) and "runtime" (executables, docs), the
# two Debian packages CPack makes (lib/package/debian.cmake).
# tests/package checks all of it from outside the source tree.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
foreach(dir LIBDIR INCLUDEDIR BINDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${dir}}")
    message(FATAL_ERROR "CMAKE_INSTALL_${dir} must be relative to the prefix (relocatable package)")
  endif()
endforeach()

set(CONFLUX_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/conflux)
install(TARGETS conflux_raft conflux_storage conflux_wire conflux_transport conflux_engine
                conflux_lib
        EXPORT confluxTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT development
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
# With --strip (and in CPack's packages) the archives keep their symbols and
# lose only their debug information: Asio's and Beast's make
# libconflux_transport.a some 250 MB.
string(CONFIGURE [[
  if(CMAKE_INSTALL_DO_STRIP AND EXISTS "@CMAKE_STRIP@")
    file(GLOB archives "$ENV{DESTDIR}${CMAKE_INSTALL_PREFIX}/@CMAKE_INSTALL_LIBDIR@/libconflux*.a")
    foreach(archive IN LISTS archives)
      execute_process(COMMAND "@CMAKE_STRIP@" --strip-debug "${archive}" COMMAND_ERROR_IS_FATAL ANY)
    endforeach()
  endif()
]] CONFLUX_STRIP_ARCHIVES @ONLY)
install(CODE "${CONFLUX_STRIP_ARCHIVES}" COMPONENT development)
foreach(layer raft storage transport lib)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${layer}/include/
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT development)
endforeach()
install(FILES ${PROJECT_BINARY_DIR}/lib/include/conflux/version.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/conflux COMPONENT development)

install(EXPORT confluxTargets NAMESPACE conflux:: DESTINATION ${CONFLUX_CMAKE_DIR}
        COMPONENT development)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/confluxConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/confluxConfig.cmake
                              INSTALL_DESTINATION ${CONFLUX_CMAKE_DIR})
# 0.x releases promise nothing across minor versions.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/confluxConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/confluxConfig.cmake
              ${PROJECT_BINARY_DIR}/confluxConfigVersion.cmake
        DESTINATION ${CONFLUX_CMAKE_DIR} COMPONENT development)

# pkg-config: the prefix is found from the .pc file's own place (relocatable).
file(RELATIVE_PATH CONFLUX_PC_PREFIX /${CMAKE_INSTALL_LIBDIR}/pkgconfig /)
configure_file(${CMAKE_CURRENT_LIST_DIR}/conflux.pc.in ${PROJECT_BINARY_DIR}/conflux.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/conflux.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT development)

set(CONFLUX_PROGRAMS conflux-node conflux-hub conflux-ctl)
if(TARGET conflux-bench)
  list(APPEND CONFLUX_PROGRAMS conflux-bench)
endif()
install(TARGETS ${CONFLUX_PROGRAMS} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
install(PROGRAMS ${PROJECT_SOURCE_DIR}/apps/tls/make-dev-certs
        DESTINATION ${CMAKE_INSTALL_BINDIR} RENAME conflux-make-dev-certs COMPONENT runtime)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}
        COMPONENT runtime)
install(FILES ${PROJECT_SOURCE_DIR}/README.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT runtime)

include(${CMAKE_CURRENT_LIST_DIR}/debian.cmake)
