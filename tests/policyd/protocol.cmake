# The policy protocol: framing across reads, every malformed form, limits, replies.
mw_unit_test(mw_policyd_protocol_tests SOURCES protocol_test.cpp LIBS mw_policyd rapidcheck)
