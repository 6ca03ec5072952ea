# tests: e2e
# `mailwarden policyd` with the real thing: a private Postfix instance (loopback only, its own
# config and queue directories under a temp dir) wired with the main.cf lines of
# docs/policyd.md, and a private redis-server. Root only; exits 77 (skipped) when not root or
# when Postfix, Cyrus SASL's PLAIN module (for XCLIENT LOGIN) or redis-server is missing.
add_test(NAME policyd_e2e_postfix
  COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/postfix_e2e_test.py
          $<TARGET_FILE:mailwarden> --docs ${PROJECT_SOURCE_DIR}/docs/policyd.md)
set_tests_properties(policyd_e2e_postfix PROPERTIES LABELS e2e SKIP_RETURN_CODE 77 TIMEOUT 600)
