/**
 * A seeded fuzz test of `validate`: scenario files generated from the call vocabulary
 * with arguments, references, parameters, loops and expectations drawn from pools of
 * good and bad values. Every file either validates and then runs to a verdict (no
 * exception escapes the run), or is rejected with issues that each name file, line and
 * field and never read "Invalid input". Never an internal error.
 */

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { callArgNames, callNames, runScenario } from "@foliosim/scenarios";
import { SeededChooser } from "@foliosim/sim";
import { parseScenarioText, ScenarioFileError } from "./scenario-files.js";

const VALUES: unknown[] = [0, 1, 2, 3, -1, 4096, 1.5, "x", "m", "gpu", "p1", true, false, null, "$buf", "$buf+1", "$buf+3", "$p", "$p.ret", "$p.handle", "$p.pfns.0", "$q", "$buf + 1", "${n}", "${s}", "${nope}", ["FOLL_WRITE"], ["FOLL_LONGTERM", "FOLL_WRITE"], ["FOLL_PIN"], ["bogus"], { a: 1 }];
const FIELDS = [undefined, "ret", "PG_lru", "pincount", "present", "value", "nope"];
const ERRNOS = ["EFAULT", "EINVAL", "ENOENT", "EAGAIN", "ENOPE"];
const CALLS = [...callNames(), "bogus_call"];

const value = fc.constantFrom(...VALUES);

const args = (call: string) => {
  const names = [...(callNames().includes(call) ? (callArgNames(call) ?? []) : []), "extra"];
  return fc.dictionary(fc.constantFrom(...names), value, { maxKeys: 4 });
};

const expectation = fc.record(
  { field: fc.constantFrom(...FIELDS), equals: value, errno: fc.constantFrom(...ERRNOS), atMost: fc.constantFrom(0, 1, 10) },
  { requiredKeys: [] },
);

const step = fc.constantFrom(...CALLS).chain((call) =>
  fc.record(
    {
      call: fc.constant(call),
      args: args(call),
      as: fc.constantFrom("buf", "p", "q"),
      expect: fc.oneof(expectation, fc.array(expectation, { maxLength: 2 })),
      repeat: fc.constantFrom(1, 2, "abc", "${n}", 0),
      until: expectation,
      max: fc.constantFrom(1, 3, "${n}"),
      cpu: fc.constantFrom(0, 1, 5),
    },
    { requiredKeys: ["call"] },
  ),
);

/** A prefix that maps memory, so that many generated scripts get past the first call. */
const PRELUDE = [
  { call: "mmap", args: { pages: 4 }, as: "buf" },
  { call: "memfd_create", args: { name: "m", pages: 2 } },
  { call: "dmirror_create", args: { name: "gpu", pages: 4 } },
];

/** Steps that are valid after PRELUDE, so that generated files also validate and run. */
const GOOD: unknown[] = [
  { call: "touch", args: { addr: "$buf", page: 1, write: true } },
  { call: "pin_user_pages", args: { addr: "$buf+1", flags: ["FOLL_WRITE"] }, as: "p", expect: { field: "ret", equals: 1 } },
  { call: "pin_user_pages_fast", args: { addr: "$buf", pages: 2 } },
  { call: "get_user_pages", args: { addr: "$buf+2" }, expect: { field: "ret", atLeast: 0 } },
  { call: "folio_state", args: { addr: "$buf+1" }, expect: { field: "PG_lru", oneOf: [true, false] } },
  { call: "mlock", args: { addr: "$buf", pages: 2 } },
  { call: "munlock", args: { addr: "$buf", pages: 2 } },
  { call: "lru_add_drain_all", args: {} },
  { call: "hold_reference", args: { addr: "$buf", ns: 1000 } },
  { call: "migrate_pages", args: { addr: "$buf", pages: 2 } },
  { call: "user_write", args: { addr: "$buf", page: 3, value: "v" } },
  { call: "dmirror_migrate_to_device", args: { device: "gpu", addr: "$buf", pages: 1 } },
  { call: "dmirror_read", args: { device: "gpu", addr: "$buf", page: 1 } },
  { call: "dmirror_exclusive", args: { device: "gpu", addr: "$buf", pages: 2 }, expect: { field: "ret", oneOf: [0, -16] } },
  { call: "dmirror_check_exclusive", args: { device: "gpu", addr: "$buf", page: 1 } },
  { call: "mmap", args: { pages: 1, file: "m", shared: true }, as: "q" },
  { call: "usleep", args: { us: 3 }, repeat: 2 },
  { call: "folio_state", args: { addr: "$buf" }, until: { field: "present", equals: true }, max: 3 },
];
const GOOD_CHECKS: unknown[] = [
  { call: "metric", args: { name: "lru_add_drain_all" }, expect: { atMost: 5 } },
  { call: "folio_state", args: { addr: "$buf" }, expect: { field: "pincount", equals: 0 } },
  { call: "vma_state", args: { addr: "$buf" } },
];

const goodDoc = fc.record({
  cpus: fc.constantFrom(1, 2),
  params: fc.constant({}),
  prelude: fc.constant(true),
  setup: fc.array(fc.constantFrom(...GOOD), { maxLength: 2 }),
  tasks: fc.array(fc.record({ cpu: fc.constant(0), script: fc.array(fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...GOOD) }, { weight: 1, arbitrary: step }), { minLength: 1, maxLength: 4 }) }), { minLength: 1, maxLength: 2 }),
  check: fc.array(fc.constantFrom(...GOOD_CHECKS), { maxLength: 2 }),
});

const anyDoc = fc.record({
  cpus: fc.constantFrom(1, 2, "two", "${n}", 0, 65),
  params: fc.constantFrom({}, { n: { default: 2, description: "n" } }, { n: { default: 1, description: "n", values: [1, 2] }, s: { default: "x", description: "s" } }, { n: { default: "two", description: "n" } }),
  prelude: fc.boolean(),
  setup: fc.array(step, { maxLength: 3 }),
  tasks: fc.array(fc.record({ cpu: fc.constantFrom(0, 1), script: fc.array(step, { minLength: 1, maxLength: 4 }) }), { minLength: 1, maxLength: 2 }),
  check: fc.array(step, { maxLength: 2 }),
});

function toFile(d: Record<string, unknown>): string {
  const { cpus, params, prelude, setup, tasks, check } = d as { cpus: unknown; params: unknown; prelude: boolean; setup: unknown[]; tasks: { cpu: number; script: unknown[] }[]; check: unknown[] };
  return JSON.stringify(
    {
      id: "fuzz",
      title: "fuzz",
      description: "generated",
      source: { seeds: [] },
      params,
      machine: { cpus },
      setup: prelude ? [...PRELUDE, ...setup] : setup,
      tasks: tasks.map((t, i) => ({ name: `t${i}`, cpu: t.cpu, script: t.script })),
      check,
      promise: { summary: "generated" },
    },
    null,
    1,
  );
}

describe("validate fuzz (fast-check, seeded)", () => {
  it("every generated file validates and runs to a verdict, or is rejected with file:line:field", () => {
    let valid = 0;
    let rejected = 0;
    fc.assert(
      fc.property(fc.oneof(goodDoc, anyDoc), (d) => {
        const text = toFile(d);
        let loaded;
        try {
          loaded = parseScenarioText(text, "fuzz.json");
        } catch (error) {
          if (!(error instanceof ScenarioFileError)) throw new Error(`internal error while validating:\n${text}\n${String(error)}`);
          rejected++;
          for (const issue of error.issues) {
            expect(issue.file).toBe("fuzz.json");
            expect(issue.line).toBeGreaterThanOrEqual(1);
            expect(issue.path.length).toBeGreaterThan(0);
            expect(issue.message).not.toMatch(/Invalid input|undefined|\[object Object\]/);
          }
          return;
        }
        valid++;
        const r = runScenario(loaded.scenario, "linux-7.0", new SeededChooser(7));
        expect(["holds", "fails"]).toContain(r.verdict);
      }),
      { seed: 20261207, numRuns: 250 },
    );
    expect(valid).toBeGreaterThan(10);
    expect(rejected).toBeGreaterThan(50);
  }, 120_000);
});
