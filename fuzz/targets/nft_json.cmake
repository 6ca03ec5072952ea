# Fuzz target for the `nft -j list ruleset` reader (a live host's dump: untrusted input).
mw_fuzz_target(nft_json SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/nft_json.cpp LIBS mw_firewall)
