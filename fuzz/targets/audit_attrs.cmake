# Fuzz target for the audit snapshot parser(s) in fuzz/audit_attrs.cpp.
mw_fuzz_target(audit_attrs SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/audit_attrs.cpp LIBS mw_audit)
