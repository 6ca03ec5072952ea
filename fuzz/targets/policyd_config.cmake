# Fuzz target for policyd's configuration and sender login map parsers (fuzz/policyd_config.cpp).
mw_fuzz_target(policyd_config SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/policyd_config.cpp
               LIBS mw_policyd)
