# Fuzz target for the incident account snapshot parser in fuzz/incident_data_sources.cpp.
mw_fuzz_target(incident_data_sources SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/incident_data_sources.cpp LIBS mw_incident)
