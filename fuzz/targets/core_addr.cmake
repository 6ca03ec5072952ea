# Fuzz target for the address, prefix and port-set parsers (untrusted config and CLI input).
mw_fuzz_target(core_addr SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/core_addr.cpp LIBS mw_core)
