# Fuzz target for the audit snapshot parser(s) in fuzz/audit_sshd.cpp.
mw_fuzz_target(audit_sshd SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/audit_sshd.cpp LIBS mw_audit)
