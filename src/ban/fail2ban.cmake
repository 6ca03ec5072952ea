# `ban fail2ban-config`: filters and jails for sites that keep fail2ban (text generator).
add_library(mw_ban_fail2ban STATIC fail2ban.cpp)
target_link_libraries(mw_ban_fail2ban PUBLIC mw_core mw_ban PRIVATE fmt::fmt)
