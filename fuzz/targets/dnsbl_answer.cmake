# Fuzz target for the DNS responses the DNSBL check parses and decodes (fuzz/dnsbl_answer.cpp).
mw_fuzz_target(dnsbl_answer SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/dnsbl_answer.cpp LIBS mw_dnsbl)
