add_library(mw_ban_watch STATIC watch.cpp)
target_link_libraries(mw_ban_watch PUBLIC mw_ban mw_logs Threads::Threads
  PRIVATE fmt::fmt PkgConfig::HTTPLIB)
