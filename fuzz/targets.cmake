# Each parser's fuzz target is declared in fuzz/targets/<name>.cmake with mw_fuzz_target().
file(GLOB _mw_fuzz_decls ${CMAKE_CURRENT_SOURCE_DIR}/targets/*.cmake)
list(SORT _mw_fuzz_decls)
foreach(_decl ${_mw_fuzz_decls})
  include(${_decl})
endforeach()
