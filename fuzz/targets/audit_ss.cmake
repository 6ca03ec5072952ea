# Fuzz target for the audit snapshot parser(s) in fuzz/audit_ss.cpp.
mw_fuzz_target(audit_ss SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/audit_ss.cpp LIBS mw_audit)
