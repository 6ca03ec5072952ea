# Fuzz target for the logs parser(s) in fuzz/logs_amavis.cpp.
mw_fuzz_target(logs_amavis SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/logs_amavis.cpp LIBS mw_logs)
