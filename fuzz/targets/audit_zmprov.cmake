# Fuzz target for the audit snapshot parser(s) in fuzz/audit_zmprov.cpp.
mw_fuzz_target(audit_zmprov SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/audit_zmprov.cpp LIBS mw_audit)
