// Fuzz target: sshd -T and sshd_config parsers (Include resolved to the input itself, so
// nesting and fan-out limits are exercised).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "audit/sshd.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto t = mw::audit::parse_sshd_t(text, "fuzz.txt");
  if (!t.ok() && t.error().message.rfind("fuzz.txt:", 0) != 0) std::abort();
  mw::audit::SshdIncludeResolver self;
  self.expand = [](const std::string& p) { return std::vector<std::string>{p}; };
  self.read = [text](const std::string&) -> mw::Result<std::string> { return std::string(text); };
  auto c = mw::audit::parse_sshd_config(text, "/etc/ssh/sshd_config", &self);
  if (c.ok()) {
    for (const auto& d : c->directives) {
      if (d.keyword.empty() || d.match >= static_cast<int>(c->matches.size())) std::abort();
    }
    if (c->files.size() > mw::audit::kSshdMaxFiles) std::abort();
  } else if (c.error().message.rfind('/', 0) != 0) {  // names the (absolute) file at fault
    std::abort();
  }
  return 0;
}
