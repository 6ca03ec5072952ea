# Fuzz target for the logs parser(s) in fuzz/logs_dovecot.cpp.
mw_fuzz_target(logs_dovecot SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/logs_dovecot.cpp LIBS mw_logs)
