# tests: redis (RedisStore against a real redis-server each test starts on a private port;
# skipped when redis-server is not installed)
mw_unit_test(mw_policyd_redis_tests SOURCES redis_store_test.cpp LIBS mw_policyd PkgConfig::HIREDIS)
# RedisStore and MemoryStore give the same results for random charge sequences.
mw_unit_test(mw_policyd_redis_conformance_tests SOURCES redis_conformance_test.cpp
  LIBS mw_policyd rapidcheck PkgConfig::HIREDIS)
