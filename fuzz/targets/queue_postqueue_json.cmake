# Fuzz target for the postqueue -j parser (fuzz/queue_postqueue_json.cpp).
mw_fuzz_target(queue_postqueue_json SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/queue_postqueue_json.cpp
  LIBS mw_queue)
