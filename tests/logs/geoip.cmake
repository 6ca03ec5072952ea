# GeoIP tests against small databases of documentation addresses. The .mmdb files are written at
# build time by tests/data/geoip/build-test-db.pl (Perl's MaxMind::DB::Writer), so a plain build
# has them ready before any test runs: no CTest fixture is needed, and the tests' directory is
# compiled in.
set(MW_GEOIP_TEST_DB_DIR ${CMAKE_BINARY_DIR}/tests/data/geoip)
set(MW_GEOIP_TEST_DB_SCRIPT ${PROJECT_SOURCE_DIR}/tests/data/geoip/build-test-db.pl)
set(MW_GEOIP_TEST_DBS
  ${MW_GEOIP_TEST_DB_DIR}/test-city.mmdb
  ${MW_GEOIP_TEST_DB_DIR}/test-flat-city.mmdb
  ${MW_GEOIP_TEST_DB_DIR}/test-country.mmdb
  ${MW_GEOIP_TEST_DB_DIR}/test-flat-ipv4.mmdb
  ${MW_GEOIP_TEST_DB_DIR}/test-flat-ipv6.mmdb)

find_program(MW_PERL perl REQUIRED)
add_custom_command(
  OUTPUT ${MW_GEOIP_TEST_DBS}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${MW_GEOIP_TEST_DB_DIR}
  COMMAND ${MW_PERL} ${MW_GEOIP_TEST_DB_SCRIPT} ${MW_GEOIP_TEST_DB_DIR}
  DEPENDS ${MW_GEOIP_TEST_DB_SCRIPT}
  COMMENT "Writing the GeoIP test databases"
  VERBATIM)
add_custom_target(mw_logs_geoip_test_dbs ALL DEPENDS ${MW_GEOIP_TEST_DBS})

mw_unit_test(mw_logs_geoip_tests SOURCES geoip_test.cpp LIBS mw_logs)
add_dependencies(mw_logs_geoip_tests mw_logs_geoip_test_dbs)
target_compile_definitions(mw_logs_geoip_tests PRIVATE
  MW_GEOIP_TEST_DB_DIR="${MW_GEOIP_TEST_DB_DIR}")
