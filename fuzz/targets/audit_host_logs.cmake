# Fuzz target for the host log parsers (crontab, logrotate, rsyslog) in fuzz/audit_host_logs.cpp.
mw_fuzz_target(audit_host_logs SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/audit_host_logs.cpp LIBS mw_audit)
