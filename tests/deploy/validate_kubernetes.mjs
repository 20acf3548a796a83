// Validates Kubernetes manifests against the API schemas of the npm package
// kubernetes-models (generated from Kubernetes' OpenAPI; the Prometheus operator's
// ServiceMonitor from @kubernetes-models/prometheus-operator): every document of every
// file given, unknown fields, wrong types and missing required fields are errors.
//   node validate_kubernetes.mjs FILE.yaml...     (exit 1 on any invalid document)
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

// The packages live in the tools folder (deploy/common.sh: install_tools), the cwd.
const require = createRequire(process.cwd() + "/");
const { parseAllDocuments } = require("yaml");

function modelOf(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  if (group === "monitoring.coreos.com")
    return require(`@kubernetes-models/prometheus-operator/${group}/${version}/${kind}`)[kind];
  return require(`kubernetes-models/${group ? group + "/" : ""}${version}/${kind}`)[kind];
}

let failed = 0, checked = 0;
for (const file of process.argv.slice(2)) {
  for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
    if (doc.errors.length) {
      console.error(`${file}: YAML: ${doc.errors[0].message}`);
      failed++;
      continue;
    }
    const obj = doc.toJS();
    if (!obj) continue;
    const name = `${file}: ${obj.kind}/${obj.metadata?.name}`;
    try {
      const Model = modelOf(obj.apiVersion, obj.kind);
      new Model(obj).validate();
      checked++;
      console.log(`ok   ${name}`);
    } catch (e) {
      failed++;
      console.error(`FAIL ${name}: ${e.message}`);
    }
  }
}
console.log(`${checked} documents valid, ${failed} invalid`);
process.exit(failed || !checked ? 1 : 0);
