# Fuzz target for the logs byte sources (fuzz/logs_input.cpp): plain, gzip, zstd.
mw_fuzz_target(logs_input SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/logs_input.cpp LIBS mw_logs)
