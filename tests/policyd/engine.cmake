# The decision (buckets, spoofing, stages, de-duplication keys, fail modes) against a fake
# store, and the server end to end in process (real sockets on loopback, the memory store).
mw_unit_test(mw_policyd_engine_tests SOURCES engine_test.cpp server_test.cpp LIBS mw_policyd)
