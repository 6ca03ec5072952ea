# Fuzz target for the incident account snapshot parser in fuzz/incident_filter_rules.cpp.
mw_fuzz_target(incident_filter_rules SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/incident_filter_rules.cpp LIBS mw_incident)
