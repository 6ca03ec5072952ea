# Fuzz target for the IIS applicationHost.config parser in fuzz/audit_iis.cpp.
mw_fuzz_target(audit_iis SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/audit_iis.cpp LIBS mw_audit)
