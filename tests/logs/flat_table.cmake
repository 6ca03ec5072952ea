# flat_table unit test (written by the analyzer speed work)
# FlatStringMap (the Analyzer's messages and interned names) against std::unordered_map.
mw_unit_test(mw_logs_flat_table_tests SOURCES flat_table_test.cpp LIBS mw_logs rapidcheck)
