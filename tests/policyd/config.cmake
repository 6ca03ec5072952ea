# tests: config
# The configuration loader (the example file, defaults, every error class with its position),
# the sender login map (Postfix's format and lookup order, checked against postmap when
# installed), the alert deliveries (fake sendmail, hook scripts, a loopback webhook), and the
# systemd unit (systemd-analyze verify; skipped without it).
mw_unit_test(mw_policyd_config_tests SOURCES config_test.cpp LIBS mw_policyd)
mw_unit_test(mw_policyd_sender_login_map_tests SOURCES sender_login_map_test.cpp LIBS mw_policyd)
mw_unit_test(mw_policyd_alerts_tests SOURCES alerts_test.cpp LIBS mw_policyd PkgConfig::HTTPLIB)
add_test(NAME policyd_systemd_unit_verify
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/systemd_test.sh
          ${PROJECT_SOURCE_DIR}/packaging/systemd/mailwarden-policyd.service)
set_tests_properties(policyd_systemd_unit_verify PROPERTIES LABELS unit SKIP_RETURN_CODE 77)
# Proves the check above can fail: a copy with a misspelt key must be refused.
add_test(NAME policyd_systemd_unit_verify_detects_typo
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/systemd_test.sh --self-test
          ${PROJECT_SOURCE_DIR}/packaging/systemd/mailwarden-policyd.service)
set_tests_properties(policyd_systemd_unit_verify_detects_typo PROPERTIES LABELS unit
  SKIP_RETURN_CODE 77)
