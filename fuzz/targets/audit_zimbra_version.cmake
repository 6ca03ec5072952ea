# Fuzz target for the zmcontrol -v and Zimbra version parsers in fuzz/audit_zimbra_version.cpp.
mw_fuzz_target(audit_zimbra_version SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/audit_zimbra_version.cpp
               LIBS mw_audit)
