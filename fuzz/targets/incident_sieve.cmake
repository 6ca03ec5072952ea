# Fuzz target for the incident account snapshot parser in fuzz/incident_sieve.cpp.
mw_fuzz_target(incident_sieve SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/incident_sieve.cpp LIBS mw_incident)
