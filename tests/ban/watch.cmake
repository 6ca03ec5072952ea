# logs watch --ban: the driver with a fake nft and clock, its metrics and endpoint.
mw_unit_test(mw_ban_watch_tests SOURCES watch_test.cpp LIBS mw_ban_watch PkgConfig::HTTPLIB)
target_include_directories(mw_ban_watch_tests PRIVATE ${PROJECT_SOURCE_DIR}/tests)

# The watcher (the mailwarden binary) against nft in a network namespace.
mw_unit_test(mw_ban_watch_e2e_tests SOURCES watch_e2e.cpp LABEL e2e
  LIBS mw_test_netns mw_core PkgConfig::HTTPLIB)
target_compile_definitions(mw_ban_watch_e2e_tests PRIVATE MW_BINARY="$<TARGET_FILE:mailwarden>")
add_dependencies(mw_ban_watch_e2e_tests mailwarden)
mw_require_netns_fixture(mw_ban_watch_e2e_tests)
