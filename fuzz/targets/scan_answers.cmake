# Fuzz target for the UDP answers the scanner recognises (memcached, SNMP): whatever answers a
# probe on the network is untrusted input.
mw_fuzz_target(scan_answers SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/scan_answers.cpp LIBS mw_scan)
