# Fuzz target for the audit snapshot parser(s) in fuzz/audit_dpkg.cpp.
mw_fuzz_target(audit_dpkg SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/audit_dpkg.cpp LIBS mw_audit)
