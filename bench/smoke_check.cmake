# Runs conflux-bench (BENCH, with the list ARGS) writing JSON to JSON, and
# fails unless it exited 0 and the JSON says actions were committed.
#   cmake -DBENCH=... -DJSON=... "-DARGS=--mode;inprocess;..." [-DLEADER=n1] -P smoke_check.cmake
file(REMOVE ${JSON})
execute_process(COMMAND ${BENCH} ${ARGS} --json ${JSON} RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "conflux-bench exited with ${result}")
endif()
file(READ ${JSON} text)
string(JSON actions GET "${text}" actions)
string(JSON throughput GET "${text}" throughput)
if(actions LESS_EQUAL 0)
  message(FATAL_ERROR "no action committed: ${text}")
endif()
# With -DLEADER=id: the node that had to lead (n1 in --mode embedded).
if(DEFINED LEADER)
  string(JSON leader GET "${text}" leader)
  if(NOT leader STREQUAL LEADER)
    message(FATAL_ERROR "the leader was ${leader}, not ${LEADER}")
  endif()
endif()
message(STATUS "committed ${actions} actions (${throughput} actions/s)")
