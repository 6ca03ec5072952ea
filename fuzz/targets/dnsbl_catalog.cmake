# Fuzz target for the DNSBL catalog parser (fuzz/dnsbl_catalog.cpp): --lists reads any file.
mw_fuzz_target(dnsbl_catalog SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/dnsbl_catalog.cpp LIBS mw_dnsbl)
