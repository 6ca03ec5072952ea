# Fuzz target for the logs parser(s) in fuzz/logs_sshd.cpp.
mw_fuzz_target(logs_sshd SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/logs_sshd.cpp LIBS mw_logs)
