# What the packaging tests (cmake -P scripts) share. Each is given
# SOURCE_DIR, BUILD_DIR and VERSION, works in a scratch directory of its own
# under $TMPDIR (outside the source tree), and removes it when it passes.

# Runs a command; fails the test with its output unless it exits with 0.
# Its standard output is left in `output`.
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT code EQUAL 0)
    list(JOIN ARGN " " command)
    message(FATAL_ERROR "failed (${code}): ${command}\n${out}\n${err}")
  endif()
  set(output "${out}" PARENT_SCOPE)
endfunction()

# A fresh directory in $TMPDIR (else /tmp) named after `name`.
function(make_scratch name)
  set(tmp "$ENV{TMPDIR}")
  if(NOT tmp)
    set(tmp /tmp)
  endif()
  string(RANDOM LENGTH 8 suffix)
  set(dir "${tmp}/conflux-${name}-${suffix}")
  file(REMOVE_RECURSE "${dir}")
  file(MAKE_DIRECTORY "${dir}")
  set(scratch "${dir}" PARENT_SCOPE)
endfunction()

# Each program in `directory` (`programs`: comma-separated) answers --version with "<program> VERSION".
function(check_versions directory programs)
  string(REPLACE "," ";" programs "${programs}")
  foreach(program IN LISTS programs)
    run("${directory}/${program}" --version)
    if(NOT output STREQUAL "${program} ${VERSION}\n")
      message(FATAL_ERROR "${program} --version printed \"${output}\", not \"${program} ${VERSION}\"")
    endif()
  endforeach()
endfunction()

# No text file under `directory` names the source or the build directory,
# or any of the other paths given (where it was installed before a move).
function(check_no_tree_paths directory)
  file(GLOB_RECURSE files "${directory}/*.cmake" "${directory}/*.pc" "${directory}/*.hpp")
  foreach(file IN LISTS files)
    file(READ "${file}" text)
    foreach(tree "${SOURCE_DIR}" "${BUILD_DIR}" ${ARGN})
      string(FIND "${text}" "${tree}" at)
      if(NOT at EQUAL -1)
        message(FATAL_ERROR "${file} names ${tree}: the package is not relocatable")
      endif()
    endforeach()
  endforeach()
endfunction()
