// Compiles Probe.sol with the pinned solc-js (package.json). Imported by
// test.mjs; run directly (`node compile.mjs`) it prints the artifact as JSON,
// which is how the web3.py client gets its ABI and bytecode:
//   { "abi": [...], "bytecode": "0x...", "deployedBytecode": "0x...", "solc": "0.8.28+commit..." }
//   SOLC_EVM  the EVM version to compile for (default cancun)
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import solc from "solc";

export function compileProbe() {
  const source = readFileSync(new URL("./Probe.sol", import.meta.url), "utf8");
  const out = JSON.parse(solc.compile(JSON.stringify({
    language: "Solidity",
    sources: { "Probe.sol": { content: source } },
    settings: { optimizer: { enabled: true, runs: 200 },
                evmVersion: process.env.SOLC_EVM ?? "cancun",
                outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } } },
  })));
  const errors = (out.errors ?? []).filter((e) => e.severity === "error");
  if (errors.length > 0) throw new Error(errors.map((e) => e.formattedMessage).join("\n"));
  const c = out.contracts["Probe.sol"].Probe;
  return { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}`,
           deployedBytecode: `0x${c.evm.deployedBytecode.object}`, solc: solc.version() };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(JSON.stringify(compileProbe(), null, 1) + "\n");
}
