# Fuzz target for the logs parser(s) in fuzz/logs_zimbra.cpp.
mw_fuzz_target(logs_zimbra SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/logs_zimbra.cpp LIBS mw_logs)
