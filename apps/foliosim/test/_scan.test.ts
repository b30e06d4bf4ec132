import { it } from "vitest";
import { writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { callNames } from "@foliosim/scenarios";
import { fuzzFile } from "./fuzz.js";
import { runCommand } from "../src/commands/run.js";
import { loadScenarioFile } from "../src/scenario-files.js";
it("scan", () => {
  const dir = mkdtempSync(join(tmpdir(), "scan-"));
  const calls = [...callNames(), "bogus_call"];
  const seen = new Map<string, string>();
  for (let n = Number(process.env.S0 ?? 0); n < Number(process.env.S0 ?? 0) + Number(process.env.N ?? 300); n++) {
    const f = fuzzFile(Number(process.env.SEED ?? 777), n, calls);
    const path = join(dir, f.name);
    writeFileSync(path, f.text);
    try { loadScenarioFile(path); } catch { continue; }
    for (const seed of [1, 2]) {
      try {
        const out = runCommand({ scenario: path, seed, maxSteps: 5000 });
        if (out.report.failure && out.report.status === "invariant" ) {
          const key = out.report.failure.message.replace(/0x[0-9a-f]+/g, "X").replace(/\d+/g, "N").slice(0, 140);
          if (!seen.has(key)) seen.set(key, path);
        }
      } catch (e) { const k = "THROW " + String(e).slice(0, 140); if (!seen.has(k)) seen.set(k, path); }
    }
  }
  console.log([...seen].map(([k, p]) => `${k}\n    ${p}`).join("\n"));
}, 1200000);
