// Test helper: an AuditView of a bundled example snapshot (examples/snapshots/NAME), built as
// `mailwarden audit --snapshot` builds it: the shipped catalogs, every control, the exposure
// matrix of the snapshot's firewall, its manifest when it has one.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "audit/attrs.hpp"
#include "audit/controls.hpp"
#include "audit/custom_checks.hpp"
#include "audit/engine.hpp"
#include "audit/localconfig.hpp"
#include "audit/snapshot.hpp"
#include "catalog/ports.hpp"
#include "report/audit_view.hpp"

namespace mw::test {

struct ExampleAudit {
  audit::AttrTable attrs;
  audit::LocalconfigKeyTable keys;
  std::vector<audit::Control> controls;
  PortCatalog ports;
  audit::Facts facts;
  std::vector<audit::ControlResult> results;
  report::AuditView view;
};

// nullptr (with a gtest failure) when a catalog or the snapshot does not load.
inline std::unique_ptr<ExampleAudit> load_example_audit(const std::string& name) {
  const std::string src = MW_SOURCE_DIR;
  auto a = std::make_unique<ExampleAudit>();
  auto attrs = audit::load_attrs_tsv(src + "/catalog/zimbra/attrs.tsv");
  auto keys = audit::load_localconfig_keys_tsv(src + "/catalog/zimbra/localconfig-keys.tsv");
  auto controls = audit::load_controls(src + "/catalog/controls");
  auto ports = load_product_catalog("zimbra");
  if (!attrs.ok() || !keys.ok() || !controls.ok() || !ports.ok()) {
    ADD_FAILURE() << "catalogs do not load";
    return nullptr;
  }
  a->attrs = std::move(*attrs);
  a->keys = std::move(*keys);
  a->controls = std::move(*controls);
  a->ports = std::move(*ports);
  const std::string dir = src + "/examples/snapshots/" + name;
  std::vector<std::string> warnings;
  auto facts = audit::load_snapshot(dir, a->attrs, a->keys, warnings);
  if (!facts.ok()) {
    ADD_FAILURE() << facts.error().message;
    return nullptr;
  }
  a->facts = std::move(*facts);
  a->facts.ports = &a->ports;
  a->results = audit::evaluate_all(a->controls, a->facts, audit::builtin_checks());
  a->view.results = &a->results;
  a->view.score = audit::score(a->results);
  a->view.snapshot = "examples/snapshots/" + name;
  if (auto m = audit::read_manifest(dir); m.ok()) a->view.manifest = *m;
  a->view.exposure = report::exposure_of(a->facts);
  a->view.exposure_v4 = a->facts.ruleset_v4;
  a->view.exposure_v6 = a->facts.ruleset_v6;
  a->view.tool = "mailwarden test";
  return a;
}

}  // namespace mw::test
