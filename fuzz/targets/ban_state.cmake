# Fuzz target for the ban state file and the nft ban-set JSON reader.
mw_fuzz_target(ban_state SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/ban_state.cpp LIBS mw_ban)
