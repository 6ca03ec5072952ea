# Fuzz target for the logs parser(s) in fuzz/logs_postfix.cpp.
mw_fuzz_target(logs_postfix SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/logs_postfix.cpp LIBS mw_logs)
