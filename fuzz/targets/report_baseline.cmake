# Fuzz target for the --baseline reader in fuzz/report_baseline.cpp.
mw_fuzz_target(report_baseline SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/report_baseline.cpp LIBS mw_report)
