# Runs conflux-bench (BENCH, with the list ARGS) writing JSON to JSON, and
# fails unless it exited 0 and the JSON says actions were committed.
#   cmake -DBENCH=... -DJSON=... "-DARGS=--mode;inprocess;..." -P smoke_check.cmake
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
message(STATUS "committed ${actions} actions (${throughput} actions/s)")
