# Fuzz target for the postcat envelope parser (fuzz/queue_postcat.cpp).
mw_fuzz_target(queue_postcat SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/queue_postcat.cpp LIBS mw_queue)
