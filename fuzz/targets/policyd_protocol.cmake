# Fuzz target for the Postfix policy protocol parser (fuzz/policyd_protocol.cpp).
mw_fuzz_target(policyd_protocol SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/policyd_protocol.cpp
  LIBS mw_policyd)
