#include "audit/engine.hpp"

#include "audit/text_lines.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <limits>

namespace mw::audit {

namespace {

// A compared value: the text and where it was read.
struct Observed {
  std::vector<std::string> values;  // empty: absent (and no default)
  std::string origin;
  bool is_default = false;
};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Booleans compare case-insensitively (Zimbra TRUE/FALSE, Postfix and sshd yes/no).
bool same(std::string_view a, std::string_view b) {
  for (std::string_view w : {"true", "false", "yes", "no"}) {
    if (iequals(b, w)) return iequals(a, b);
  }
  return a == b;
}

std::string joined(const std::vector<std::string>& v) {
  if (v.empty()) return "absent";
  std::string out;
  for (const auto& x : v) out += (out.empty() ? "" : ", ") + (x.empty() ? "\"\"" : x);
  return out;
}

// nullopt: the value could not be read as the check needs (the reason in `why`).
std::optional<bool> compare(const Check& c, const std::vector<std::string>& values,
                            std::string& why) {
  std::string_view first = values.empty() ? std::string_view{} : std::string_view(values[0]);
  auto number = [&](std::string_view text) -> std::optional<std::int64_t> {
    auto n = parse_zimbra_integer(text);
    if (!n) {
      why = n.error().message;
      return std::nullopt;
    }
    if (c.zero_is_infinite && *n == 0) return std::numeric_limits<std::int64_t>::max();
    return *n;
  };
  auto duration = [&](std::string_view text) -> std::optional<std::int64_t> {
    auto d = parse_duration(text);
    if (!d) {
      why = d.error().message;
      return std::nullopt;
    }
    if (c.zero_is_infinite && d->count() == 0) return std::numeric_limits<std::int64_t>::max();
    return d->count();
  };
  switch (c.op) {
    case Op::eq:
      if (values.empty()) return same("", c.expected);
      return std::all_of(values.begin(), values.end(),
                         [&](const std::string& v) { return same(v, c.expected); });
    case Op::ne:
      return std::none_of(values.begin(), values.end(),
                          [&](const std::string& v) { return same(v, c.expected); });
    case Op::ge:
    case Op::le: {
      if (values.empty()) {
        why = "no value";
        return std::nullopt;
      }
      auto have = number(first);
      auto want = parse_zimbra_integer(c.expected);
      if (!have || !want) return std::nullopt;
      return c.op == Op::ge ? *have >= *want : *have <= *want;
    }
    case Op::between: {
      if (values.empty()) {
        why = "no value";
        return std::nullopt;
      }
      auto have = number(first);
      if (!have) return std::nullopt;
      return *have >= *c.min && *have <= *c.max;
    }
    case Op::duration_ge:
    case Op::duration_le: {
      if (values.empty()) {
        why = "no value";
        return std::nullopt;
      }
      auto have = duration(first);
      auto want = parse_duration(c.expected);
      if (!have || !want) return std::nullopt;
      return c.op == Op::duration_ge ? *have >= want->count() : *have <= want->count();
    }
    case Op::contains:
    case Op::not_contains: {
      bool found = false;
      for (const auto& v : values) {
        if (same(v, c.expected)) found = true;
        for (auto w : split_list(v)) found = found || same(w, c.expected);
      }
      return c.op == Op::contains ? found : !found;
    }
    case Op::empty:
    case Op::not_empty: {
      bool empty =
          std::all_of(values.begin(), values.end(), [](const std::string& v) { return v.empty(); });
      return c.op == Op::empty ? empty : !empty;
    }
    case Op::in:
      return std::all_of(values.begin(), values.end(), [&](const std::string& v) {
        return std::any_of(c.values.begin(), c.values.end(),
                           [&](const std::string& ok) { return same(v, ok); });
      });
  }
  return std::nullopt;
}

std::string expectation(const Check& c) {
  switch (c.op) {
    case Op::eq:
      return fmt::format("= {}", c.expected);
    case Op::ne:
      return fmt::format("!= {}", c.expected);
    case Op::ge:
    case Op::duration_ge:
      return fmt::format(">= {}", c.expected);
    case Op::le:
    case Op::duration_le:
      return fmt::format("<= {}", c.expected);
    case Op::between:
      return fmt::format("between {} and {}", *c.min, *c.max);
    case Op::contains:
      return fmt::format("contains {}", c.expected);
    case Op::not_contains:
      return fmt::format("does not contain {}", c.expected);
    case Op::empty:
      return "empty";
    case Op::not_empty:
      return "set";
    case Op::in: {
      std::string s;
      for (const auto& v : c.values) s += (s.empty() ? "" : ", ") + v;
      return "one of " + s;
    }
  }
  return "";
}

// The objects an attr check reads at its level, and the name of the missing fact group.
std::vector<const ZObject*> objects_at(const Facts& f, Level l, std::string& group) {
  std::vector<const ZObject*> out;
  switch (l) {
    case Level::global:
      group = "global";
      if (f.global) out.push_back(&*f.global);
      break;
    case Level::server:
      group = "server";
      if (f.server) out.push_back(&*f.server);
      break;
    case Level::cos:
      group = "cos";
      for (const auto& o : f.coses) out.push_back(&o);
      break;
    case Level::domain:
      group = "domain";
      for (const auto& o : f.domains) out.push_back(&o);
      break;
    case Level::admin:
      group = "admin";
      for (const auto& o : f.admins) out.push_back(&o);
      break;
  }
  return out;
}

ControlResult not_checked(const Control& c, std::string why) {
  ControlResult r;
  r.control = &c;
  r.status = Status::not_checked;
  r.detail = std::move(why);
  return r;
}

std::string missing_reason(const Facts& f, const std::string& group) {
  auto it = f.missing.find(group);
  return it != f.missing.end() ? it->second : fmt::format("no {} facts in the snapshot", group);
}

ControlResult check_attr(const Control& c, const Facts& f) {
  std::string group;
  auto objects = objects_at(f, c.check.level, group);
  if (objects.empty()) return not_checked(c, missing_reason(f, group));
  ControlResult r;
  r.control = &c;
  r.status = Status::pass;
  const AttrInfo* info = f.attrs ? f.attrs->find(c.check.name) : nullptr;
  for (const ZObject* o : objects) {
    Observed seen;
    for (const auto& v : o->entry.values(c.check.name)) seen.values.emplace_back(v);
    if (const ZmprovValue* v = o->entry.find(c.check.name)) {
      seen.origin = fmt::format("{}:{}", o->file, v->line);
    } else if (info) {
      bool cos_level = c.check.level == Level::cos || c.check.level == Level::admin;
      seen.values = cos_level ? info->default_cos_value : info->global_config_value;
      seen.is_default = true;
      seen.origin = "default (attrs.tsv)";
    } else {
      seen.origin = fmt::format("{}: absent", o->file);
    }
    std::string label = o->entry.name.empty()
                            ? std::string(level_name(c.check.level))
                            : fmt::format("{} {}", level_name(c.check.level), o->entry.name);
    r.facts.push_back(
        {fmt::format("{}: {}", label, c.check.name), joined(seen.values), seen.origin});
    std::string why;
    auto ok = compare(c.check, seen.values, why);
    if (!ok) return not_checked(c, fmt::format("{}: {} ({})", label, why, seen.origin));
    if (!*ok) {
      r.status = Status::fail;
      r.failing.push_back(o->entry.name.empty() ? label : o->entry.name);
      r.detail += fmt::format("{}{}: {} is {}{}, expected {}", r.detail.empty() ? "" : "; ", label,
                              c.check.name, joined(seen.values),
                              seen.is_default ? " (default)" : "", expectation(c.check));
    }
  }
  if (r.status == Status::fail) {
    bool per_object = c.remediation.find("{object}") != std::string::npos;
    if (per_object) {
      for (const auto& name : r.failing) r.remediation += render_remediation(c, name);
    } else {
      r.remediation = render_remediation(c, "");
    }
  }
  return r;
}

// One value from a keyed table (localconfig, postconf, sshd): compared, reported.
ControlResult check_value(const Control& c, const std::string& label, Observed seen) {
  ControlResult r;
  r.control = &c;
  r.facts.push_back({label, joined(seen.values), seen.origin});
  std::string why;
  auto ok = compare(c.check, seen.values, why);
  if (!ok) return not_checked(c, fmt::format("{}: {} ({})", label, why, seen.origin));
  r.status = *ok ? Status::pass : Status::fail;
  if (!*ok) {
    r.detail = fmt::format("{} is {}{}, expected {}", label, joined(seen.values),
                           seen.is_default ? " (default)" : "", expectation(c.check));
    r.remediation = render_remediation(c, "");
  }
  return r;
}

}  // namespace

std::string render_remediation(const Control& c, std::string_view object) {
  std::string out = c.remediation;
  auto replace = [&](std::string_view key, std::string_view with) {
    for (auto at = out.find(key); at != std::string::npos; at = out.find(key, at + with.size())) {
      out.replace(at, key.size(), with);
    }
  };
  replace("{object}", object);
  replace("{value}", c.fix_value);
  if (!out.empty() && out.back() != '\n') out += '\n';
  return out;
}

std::string_view status_name(Status s) {
  constexpr std::string_view kNames[] = {"pass", "fail", "not_checked", "not_applicable"};
  return kNames[static_cast<std::size_t>(s)];
}

ControlResult evaluate(const Control& c, const Facts& f, const CustomChecks& custom) {
  auto not_applicable = [&](std::string why) {
    ControlResult r;
    r.control = &c;
    r.status = Status::not_applicable;
    r.detail = std::move(why);
    return r;
  };
  if (c.applies.topology) {
    if (f.topology.empty()) {
      return not_checked(c, "single or multi-server unknown (zmprov gas not in the snapshot)");
    }
    if (f.topology != *c.applies.topology) {
      return not_applicable(fmt::format("applies to {}-server installs; this one is {}",
                                        *c.applies.topology, f.topology));
    }
  }
  if (c.applies.edition) {
    if (f.edition.empty())
      return not_checked(c, "edition unknown (zmcontrol -v not in the snapshot)");
    if (f.edition != *c.applies.edition) {
      return not_applicable(fmt::format("a Network Edition feature; this is the {} edition",
                                        f.edition == "foss" ? "Open Source" : f.edition));
    }
  }
  const Check& k = c.check;
  switch (k.kind) {
    case CheckKind::custom: {
      auto it = custom.find(k.name);
      if (it == custom.end()) return not_checked(c, fmt::format("no custom check '{}'", k.name));
      ControlResult r = it->second(c, f);
      r.control = &c;
      return r;
    }
    case CheckKind::attr:
      return check_attr(c, f);
    case CheckKind::localconfig: {
      if (!f.localconfig) return not_checked(c, missing_reason(f, "localconfig"));
      Observed seen;
      if (const LocalconfigEntry* e = f.localconfig->find(k.name)) {
        seen.values = {e->value};
        seen.origin = fmt::format(
            "{}:{}", f.file_of.count("localconfig") ? f.file_of.at("localconfig") : "localconfig",
            e->line);
      } else if (const LocalconfigKey* d =
                     f.localconfig_keys ? f.localconfig_keys->find(k.name) : nullptr;
                 d && d->default_value) {
        seen.values = {*d->default_value};
        seen.is_default = true;
        seen.origin = "default (LC.java)";
      } else {
        seen.origin = "absent";
      }
      return check_value(c, fmt::format("localconfig {}", k.name), std::move(seen));
    }
    case CheckKind::postconf: {
      if (!f.postconf) return not_checked(c, missing_reason(f, "postconf"));
      Observed seen;
      if (const PostconfParam* p = f.postconf->find(k.name)) {
        seen.values = {p->value};
        seen.origin = fmt::format(
            "{}:{}", f.file_of.count("postconf") ? f.file_of.at("postconf") : "postconf", p->line);
      } else {
        seen.origin = "not in postconf -n (Postfix's built-in default)";
        seen.is_default = true;
      }
      return check_value(c, fmt::format("postconf {}", k.name), std::move(seen));
    }
    case CheckKind::sshd: {
      if (!f.sshd) return not_checked(c, missing_reason(f, "sshd"));
      Observed seen;
      for (auto v : f.sshd->values(k.name)) seen.values.emplace_back(v);
      const SshdValue* v = f.sshd->find(k.name);
      seen.origin = v ? v->origin.to_string() : "not printed by sshd -T";
      return check_value(c, fmt::format("sshd {}", k.name), std::move(seen));
    }
    case CheckKind::package: {
      if (!f.packages) return not_checked(c, missing_reason(f, "packages"));
      bool installed = f.packages->installed(k.name);
      ControlResult r;
      r.control = &c;
      r.facts.push_back({fmt::format("package {}", k.name),
                         installed ? "installed" : "not installed",
                         f.file_of.count("packages") ? f.file_of.at("packages") : "packages"});
      r.status = installed == k.installed ? Status::pass : Status::fail;
      if (r.status == Status::fail) {
        r.detail = fmt::format("{} is {}installed", k.name, installed ? "" : "not ");
        r.remediation = render_remediation(c, "");
      }
      return r;
    }
  }
  return not_checked(c, "unknown check");
}

std::vector<ControlResult> evaluate_all(const std::vector<Control>& controls, const Facts& facts,
                                        const CustomChecks& custom) {
  std::vector<ControlResult> out;
  out.reserve(controls.size());
  for (const auto& c : controls) out.push_back(evaluate(c, facts, custom));
  return out;
}

Score score(const std::vector<ControlResult>& results) {
  Score s;
  int won = 0, total = 0;
  for (const auto& r : results) {
    int w = severity_weight(r.control->severity);
    switch (r.status) {
      case Status::pass:
        ++s.pass;
        won += w;
        total += w;
        break;
      case Status::fail:
        ++s.fail;
        total += w;
        break;
      case Status::not_checked:
        ++s.not_checked;
        break;
      case Status::not_applicable:
        ++s.not_applicable;
        break;
    }
  }
  s.percent = total == 0 ? 100 : (won * 100 + total / 2) / total;
  return s;
}

}  // namespace mw::audit
