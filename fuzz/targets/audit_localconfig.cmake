# Fuzz target for the audit snapshot parser(s) in fuzz/audit_localconfig.cpp.
mw_fuzz_target(audit_localconfig SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/audit_localconfig.cpp LIBS mw_audit)
