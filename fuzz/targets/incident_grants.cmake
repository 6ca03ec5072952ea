# Fuzz target for the incident account snapshot parser in fuzz/incident_grants.cpp.
mw_fuzz_target(incident_grants SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/incident_grants.cpp LIBS mw_incident)
