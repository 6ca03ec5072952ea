# Fuzz target for the audit snapshot parser(s) in fuzz/audit_postconf.cpp.
mw_fuzz_target(audit_postconf SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/audit_postconf.cpp LIBS mw_audit)
