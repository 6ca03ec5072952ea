# Fuzz target for the audit snapshot parser(s) in fuzz/audit_redact.cpp.
mw_fuzz_target(audit_redact SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/audit_redact.cpp LIBS mw_audit)
