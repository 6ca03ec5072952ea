# fail2ban-config: the generator (unit), the real fail2ban-regex / fail2ban-client --test on
# the generated files (unit too: no root, temp dirs only; skipped without fail2ban), and the CLI.
mw_unit_test(mw_ban_fail2ban_tests SOURCES fail2ban_test.cpp LIBS mw_ban_fail2ban)
mw_unit_test(mw_ban_fail2ban_regex_tests SOURCES fail2ban_regex_test.cpp LIBS mw_ban_fail2ban)
add_test(NAME ban_fail2ban_cli
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/fail2ban_cli_test.py $<TARGET_FILE:mailwarden>
          ${PROJECT_SOURCE_DIR})
set_tests_properties(ban_fail2ban_cli PROPERTIES LABELS unit TIMEOUT 120
  ENVIRONMENT "MAILWARDEN_CATALOG=${PROJECT_SOURCE_DIR}/catalog")
