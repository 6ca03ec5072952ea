# tests: store (the in-process counters: sliding windows, de-duplication, alerts, SQLite
# persistence; a property test against a brute-force model; concurrency)
mw_unit_test(mw_policyd_store_tests
  SOURCES store_test.cpp
  LIBS mw_policyd rapidcheck PkgConfig::SQLITE3)

# Figures for the report (ns per charge, memory for 100,000 accounts, flush time); not a test:
# ninja mw_policyd_store_bench && build/.../tests/policyd/mw_policyd_store_bench
add_executable(mw_policyd_store_bench EXCLUDE_FROM_ALL store_bench.cpp)
target_link_libraries(mw_policyd_store_bench PRIVATE mw_policyd Threads::Threads)
