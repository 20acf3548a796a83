// Prints every operation of an OpenAPI document, one "METHOD /path" a line (sorted):
//   node openapi_operations.mjs api/openapi.yaml       (run in the tools folder)
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(process.cwd() + "/");
const { parse } = require("yaml");

const methods = ["get", "put", "post", "delete", "patch", "options", "head", "trace"];
const spec = parse(readFileSync(process.argv[2], "utf8"));
const lines = [];
for (const [path, item] of Object.entries(spec.paths ?? {}))
  for (const m of methods)
    if (item[m]) lines.push(`${m.toUpperCase()} ${path}`);
console.log(lines.sort().join("\n"));
