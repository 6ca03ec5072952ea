# Fuzz target for the logs parser(s) in fuzz/logs_syslog.cpp.
mw_fuzz_target(logs_syslog SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/logs_syslog.cpp LIBS mw_logs)
