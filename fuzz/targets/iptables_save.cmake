# Fuzz target of the iptables-save / ip6tables-save parser.
mw_fuzz_target(iptables_save SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/iptables_save.cpp LIBS mw_firewall)
