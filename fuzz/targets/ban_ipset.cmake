# Fuzz target for the `ipset save` reader of the iptables ban backend; corpus captured from
# real ipset 7.17 in a network namespace.
mw_fuzz_target(ban_ipset SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/ban_ipset.cpp LIBS mw_ban)
