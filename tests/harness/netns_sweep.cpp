// mw_netns_sweep: deletes network namespaces left by crashed test runs (the ctest "netns" fixture).
#include <unistd.h>

#include <cstdio>
#include <string>

#include "harness/netns.hpp"

int main(int argc, char** argv) {
  const std::string prefix = argc > 1 ? argv[1] : "mwt";
  if (::geteuid() != 0) {
    std::printf("mw_netns_sweep: not root, nothing to sweep\n");
    return 0;
  }
  const int n = mw::test::sweep_leftover_namespaces(prefix);
  std::printf("mw_netns_sweep: deleted %d leftover namespace(s) named %s-<dead pid>-*\n", n,
              prefix.c_str());
  return 0;
}
