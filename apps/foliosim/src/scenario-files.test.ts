import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { hasCall } from "@foliosim/scenarios";
import { exampleFiles } from "./catalog.js";
import { formatIssue, loadScenarioFile, parseScenarioText, ScenarioFileError } from "./scenario-files.js";

const VALID = `id: two-sleepers
title: two sleepers
description: a test scenario
source: { seeds: [] }
machine:
  cpus: 2
tasks:
  - name: a
    cpu: 0
    script:
      - { call: usleep, args: { us: 5 } }
promise:
  summary: both sleep
`;

function issuesOf(text: string, file = "f.yaml"): string[] {
  try {
    parseScenarioText(text, file);
  } catch (error) {
    if (error instanceof ScenarioFileError) return error.issues.map(formatIssue);
    throw error;
  }
  return [];
}

describe("user scenario files", () => {
  it("loads a valid YAML file into the builder's objects", () => {
    const loaded = parseScenarioText(VALID, "f.yaml");
    expect(loaded.scenario.id).toBe("two-sleepers");
    expect(loaded.scenario.tasks[0].policy).toBe("normal");
    expect(loaded.kernels).toEqual([]);
  });

  it("names file, line, column and path, with expected vs found and the closest call", () => {
    expect(issuesOf(VALID.replace("call: usleep", "call: usleeep"))).toEqual([
      'f.yaml:11:17: tasks.0.script.0.call: expected a known call (see `foliosim list --calls`), found "usleeep" (did you mean "usleep"?)',
    ]);
    expect(issuesOf(VALID.replace("cpus: 2", "cpus: [2]"))[0]).toMatch(/^f\.yaml:6:9: machine\.cpus: expected .*, found a list of 1$/);
    expect(issuesOf(VALID.replace("    cpu: 0", '    cpu: "zero"'))).toEqual(['f.yaml:9:10: tasks.0.cpu: expected number, found "zero" (a string)']);
    expect(issuesOf(VALID.replace("args: { us: 5 }", "args: { usec: 5 }"))).toEqual([
      'f.yaml:11:31: tasks.0.script.0.args.us: usleep needs argument "us" (number)',
      'f.yaml:11:33: tasks.0.script.0.args.usec: expected an argument of usleep, found "usec" (did you mean "us"?); its arguments: us',
    ]);
  });

  it("reports unknown fields at their key, with a suggestion", () => {
    const [issue] = issuesOf(VALID.replace("promise:", "promsie:\n  summary: x\npromise:"));
    expect(issue).toMatch(/^f\.yaml:12:1: promsie: unknown field "promsie" \(did you mean "promise"\?\)/);
  });

  it("checks kernels and variants, suggesting the closest name", () => {
    const issues = issuesOf(VALID + "kernels: [linux-6.1l, linux-6.11+colect=will-v1, linux-6.11+collect=wil-v1]\n");
    expect(issues[0]).toMatch(/^f\.yaml:14:11: kernels\.0: unknown kernel "linux-6\.1l" \(did you mean "linux-6\.10"\?\)/);
    expect(issues[1]).toMatch(/^f\.yaml:14:23: kernels\.1: unknown kernel option "colect" \(did you mean "collect"\?\)/);
    expect(issues[2]).toMatch(/^f\.yaml:14:50: kernels\.2: invalid value "wil-v1" for kernel option collect \(did you mean "will-v1"\?\)/);
  });

  it("never loads a variant module named in kernels: (a scenario file is data); says to use --variant", () => {
    const dir = mkdtempSync(join(tmpdir(), "foliosim-kernels-"));
    const marker = join(dir, "ran");
    const module = join(dir, "evil.mjs");
    writeFileSync(module, `import { writeFileSync } from "node:fs";\nwriteFileSync(${JSON.stringify(marker)}, "ran");\nexport default {};\n`);
    const issues = issuesOf(VALID + `kernels: [linux-7.3+collect=${module}]\n`);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toContain(`f.yaml:14:11: kernels.0: collect=${module} names a module: a scenario file is data and never loads code; load it with --variant ${module} and write collect=<its id> here`);
    expect(existsSync(marker)).toBe(false);
  });

  it("reports syntax errors and JSON files with positions", () => {
    expect(issuesOf("id: [unclosed\n")[0]).toMatch(/^f\.yaml:\d+:\d+: \(root\): YAML syntax: /);
    const json = JSON.stringify(JSON.parse(JSON.stringify({ ...parseScenarioText(VALID, "x.yaml").scenario })), null, 2).replace('"usleep"', '"usleeep"');
    expect(issuesOf(json, "f.json")[0]).toMatch(/^f\.json:\d+:\d+: tasks\.0\.script\.0\.call: expected a known call .*found "usleeep" \(did you mean "usleep"\?\)/);
    expect(issuesOf("- a\n- b\n")[0]).toBe("f.yaml:1:1: (root): expected a mapping with the scenario's fields (id, title, machine, tasks, promise, …), found a list of 2");
  });

  it("never executes anything: tags that would construct objects are refused", () => {
    const issues = issuesOf(VALID.replace("description: a test scenario", "description: !!js/function 'function(){}'"));
    expect(issues.join("\n")).not.toMatch(/function \(\)/);
  });

  it("a map of tens of thousands of keys stops at the node limit, with file:line (keys are checked in linear time, not by the parser's quadratic check)", () => {
    const keys = Array.from({ length: 30_000 }, (_, i) => `  k${i}: 1`).join("\n");
    expect(() => parseScenarioText(`id: x\nmachine:\n${keys}\n`, "big.yaml")).toThrow(/^big\.yaml:\d+:\d+: \(root\): more than 50000 YAML nodes: a scenario file is smaller$/);
    const twice = `id: x\nmachine:\n${Array.from({ length: 2_000 }, (_, i) => `  k${i}: 1`).join("\n")}\n  k7: 2\n`;
    expect(() => parseScenarioText(twice, "dup.yaml")).toThrow(/dup\.yaml:2003:3: \(root\): duplicate key "k7": each key may appear once in a mapping/);
  });

  it("missing files and other extensions are input errors", () => {
    expect(() => loadScenarioFile("/nonexistent/x.yaml")).toThrow(/x\.yaml:1:1: \(root\): no such file/);
  });

  it("every example validates (S1, S4, S5, a fresh race)", () => {
    const files = exampleFiles();
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const file of files) {
      const loaded = loadScenarioFile(file);
      expect(loaded.scenario.tasks.every((t) => t.script.every((s) => hasCall(s.call)))).toBe(true);
      expect(loaded.kernels.length).toBeGreaterThan(0);
    }
  });
});
