# Fuzz target for the logs analysis (fuzz/logs_analysis.cpp): lines through the Analyzer.
mw_fuzz_target(logs_analysis SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/logs_analysis.cpp LIBS mw_logs)
