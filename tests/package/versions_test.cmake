# Every executable of the build tree answers --version: "<program> VERSION".
# Given BUILD_DIR, VERSION and BENCH (ON when bench/ is built).
include(${CMAKE_CURRENT_LIST_DIR}/package_steps.cmake)
check_versions("${BUILD_DIR}/apps" "conflux-node,conflux-hub,conflux-ctl,conflux-demo")
if(BENCH)
  check_versions("${BUILD_DIR}/bench" "conflux-bench,raft_core_bench,transport_bench,storage_bench,catchup_bench,snapshot_bench,transfer_bench")
endif()
