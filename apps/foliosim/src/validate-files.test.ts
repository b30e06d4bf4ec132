import { describe, expect, it } from "vitest";
import { formatIssue, parseScenarioText, ScenarioFileError } from "./scenario-files.js";

/** A valid file with a memory set-up, to be broken one line at a time. */
const BASE = `id: pinned
title: a pin
description: a test scenario
source: { seeds: [] }
params:
  n: { default: 1, description: pages, values: [1, 2] }
machine:
  cpus: 2
setup:
  - { call: mmap, args: { pages: 4 }, as: buf }
  - { call: memfd_create, args: { name: m, pages: 2 } }
tasks:
  - name: a
    cpu: 0
    script:
      - { call: pin_user_pages, args: { addr: $buf, pages: "\${n}" }, as: pin, expect: { field: ret, equals: "\${n}" } }
      - { call: folio_state, args: { addr: $buf+1 }, expect: { field: PG_lru, equals: true } }
check:
  - { call: metric, args: { name: lru_add_drain_all }, expect: { atMost: 1 } }
  - { call: folio_state, args: { addr: $buf }, expect: { field: pincount, equals: 0 } }
promise:
  summary: the pin holds
`;

function issuesOf(text: string): string[] {
  try {
    parseScenarioText(text, "f.yaml");
  } catch (error) {
    if (error instanceof ScenarioFileError) return error.issues.map(formatIssue);
    throw error;
  }
  return [];
}

const edit = (from: string, to: string) => {
  if (!BASE.includes(from)) throw new Error(`BASE has no ${from}`);
  return issuesOf(BASE.replace(from, to));
};

describe("validate catches everything up front, with file:line:field", () => {
  it("the base file is valid", () => {
    expect(issuesOf(BASE)).toEqual([]);
  });

  it("reports schema and semantic errors together: missing fields do not hide a type error", () => {
    const issues = issuesOf("id: broken\nmachine:\n  cpus: two\ntasks:\n  - { name: a, cpu: 0, script: [{ call: usleeep }] }\n");
    expect(issues).toContain("f.yaml:3:9: machine.cpus: expected a whole number from 1 to 64, or a ${param} declared under params:, found \"two\" (a string)");
    expect(issues.some((i) => /tasks\.0\.script\.0\.call: expected a known call .*"usleeep"/.test(i))).toBe(true);
    expect(issues.some((i) => /\(root\)|title/.test(i))).toBe(true);
    expect(issues.join("\n")).not.toMatch(/Invalid input/);
  });

  it("a string where a number is needed, repeat: abc, an undeclared or mistyped parameter", () => {
    expect(edit("cpus: 2", "cpus: eight")[0]).toMatch(/^f\.yaml:8:9: machine\.cpus: expected a whole number from 1 to 64, or a \$\{param\}/);
    expect(edit("as: pin, expect", 'as: pin, repeat: "abc", expect')[0]).toMatch(/^f\.yaml:16:\d+: tasks\.0\.script\.0\.repeat: expected a whole number of at least 1, or a \$\{param\}/);
    expect(edit("cpus: 2", "cpus: \"${cpus}\"")).toEqual([expect.stringMatching(/^f\.yaml:8:9: machine\.cpus: unknown parameter "\$\{cpus\}"/)]);
    expect(edit("cpus: 2", "cpus: \"${n}\"\n  preemption: \"${n}\"")).toEqual([
      'f.yaml:9:15: machine.preemption: expected one of none, voluntary, full, found 1 (a number) (the value of ${n})',
      'f.yaml:9:15: machine.preemption: expected one of none, voluntary, full, found 2 (a number) (the value of ${n})',
    ]);
    expect(edit("values: [1, 2]", "values: [1, two]")).toEqual([
      'f.yaml:6:48: params.n.values: expected a number (the parameter\'s type), found "two" (a string)',
      'f.yaml:16:60: tasks.0.script.0.args.pages: expected number, found "two" (a string) (when ${n} is "two")',
    ]);
  });

  it("wrong types after ${param} substitution, for every value the parameter takes", () => {
    expect(edit("values: [1, 2]", "values: [1, 0]")).toEqual([
      "f.yaml:16:60: tasks.0.script.0.args.pages: expected at least 1, found 0 (a number) (when ${n} is 0)",
    ]);
    expect(edit('pages: "${n}" }', 'pages: "${n}", hold_ns: "${n}", flags: "${n}" }')[0]).toMatch(/tasks\.0\.script\.0\.args\.flags: expected array, found 1 \(a number\)/);
  });

  it("an errno name that does not exist, an expectation field the result does not have", () => {
    expect(edit('expect: { field: ret, equals: "${n}" }', 'expect: { field: ret, errno: ENOPE }')[0]).toMatch(
      /^f\.yaml:16:\d+: tasks\.0\.script\.0\.expect\.errno: expected one of EPERM, ENOENT, .*found "ENOPE" \(a string\)/,
    );
    expect(edit("field: PG_lru", "field: PG_lur")).toEqual([expect.stringMatching(/^f\.yaml:17:\d+: tasks\.0\.script\.1\.expect\.field: folio_state's result has no field "PG_lur" \(did you mean "PG_lru"\?\)/)]);
    expect(edit('expect: { field: ret, equals: "${n}" }', 'expect: { atLeast: 1 }')).toEqual([
      expect.stringMatching(/tasks\.0\.script\.0\.expect: pin_user_pages returns an object with fields ret, .*: name the field to compare with field:/),
    ]);
  });

  it("references to undefined files, devices and bindings; bindings of the wrong type; malformed references", () => {
    expect(edit("{ call: mmap, args: { pages: 4 }, as: buf }", "{ call: mmap, args: { pages: 4, file: mfd }, as: buf }")[0]).toMatch(
      /^f\.yaml:10:\d+: setup\.0\.args\.file: no file named "mfd" is created by an earlier step \(memfd_create or open_file\)/,
    );
    expect(edit("addr: $buf+1", "addr: $bfu+1")).toEqual([expect.stringMatching(/tasks\.0\.script\.1\.args\.addr: "\$bfu" is not bound by an earlier step \(did you mean "buf"\?\)/)]);
    expect(edit("addr: $buf+1", "addr: $pin")).toEqual([expect.stringMatching(/tasks\.0\.script\.1\.args\.addr: expected number, found "\$pin" \(a string\), whose value is of another type/)]);
    expect(edit("addr: $buf+1", "addr: $pin.rett")).toEqual([expect.stringMatching(/"\$pin\.rett": the result has no field "rett" \(did you mean "ret"\?\)/)]);
    expect(edit("addr: $buf+1", "addr: $pin.pfns+1")).toEqual([expect.stringMatching(/page arithmetic needs an address, but the value is a list/)]);
    expect(edit("addr: $buf+1", '"addr": "$buf + 1"')).toEqual([expect.stringMatching(/expected a reference of the form \$\{param\}, \$name, \$name\.field or \$name\+N/)]);
    expect(edit("{ call: mmap, args: { pages: 4 }, as: buf }", "{ call: mmap, args: { pages: 4 }, as: buf }\n  - { call: dmirror_read, args: { device: gpu, addr: $buf } }")[0]).toMatch(
      /setup\.1\.args\.device: no device named "gpu" is created by an earlier step \(dmirror_create\)/,
    );
  });

  it("fields a call accepts but ignores here: mmap order: on a file, a memfd order larger than the memfd, cpu:/process: in a task, hold_ns with keep", () => {
    expect(edit("{ call: mmap, args: { pages: 4 }, as: buf }\n  - { call: memfd_create, args: { name: m, pages: 2 } }", "{ call: memfd_create, args: { name: m, pages: 2 } }\n  - { call: mmap, args: { pages: 4, file: m, order: 2 }, as: buf }")).toEqual([
      expect.stringMatching(/^f\.yaml:11:\d+: setup\.1\.args\.order: order: sets the mTHP order of anonymous memory; a file or memfd mapping's folio sizes come from the object/),
    ]);
    expect(edit("{ call: mmap, args: { pages: 4 }, as: buf }", "{ call: mmap, args: { pages: 4 }, as: buf }\n  - { call: memfd_create, args: { name: m, pages: 2, order: 2 } }")).toEqual([
      expect.stringMatching(/^f\.yaml:11:\d+: setup\.1\.args\.order: order: 2 needs at least 4 pages; a 2-page memfd never gets one/),
    ]);
    expect(edit("{ call: mmap, args: { pages: 4 }, as: buf }", "{ call: mmap, args: { pages: 4 }, as: buf }\n  - { call: memfd_create, args: { name: m, pages: 4, order: 2 } }")).toEqual([]);
    expect(edit("{ call: folio_state, args", "{ cpu: 1, call: folio_state, args")).toEqual([expect.stringMatching(/tasks\.0\.script\.1\.cpu: cpu: is for set-up steps/)]);
    expect(edit('pages: "${n}" }', 'pages: "${n}", keep: true, hold_ns: 5 }')).toEqual([expect.stringMatching(/args\.hold_ns: hold_ns: is ignored with keep: true/)]);
  });

  it("mprotect, mremap and a fixed mmap address: misuse is caught with file:line:field", () => {
    const step = (text: string) => edit("{ call: memfd_create, args: { name: m, pages: 2 } }", `{ call: memfd_create, args: { name: m, pages: 2 } }\n  - ${text}`);
    expect(step("{ call: mprotect, args: { addr: $buf, pages: 1, prot: [PROT_NONE] } }")).toEqual([]);
    expect(step("{ call: mprotect, args: { addr: $buf, pages: 1, prot: [PROT_NONE, PROT_READ] } }")).toEqual([expect.stringMatching(/^f\.yaml:12:\d+: setup\.2\.args\.prot: prot: PROT_NONE is no access at all/)]);
    expect(step("{ call: mprotect, args: { addr: $buf, pages: 1, prot: [PROT_RW] } }")[0]).toMatch(/^f\.yaml:12:\d+: setup\.2\.args\.prot\.0: expected one of PROT_NONE, PROT_READ, PROT_WRITE, PROT_EXEC/);
    expect(step("{ call: mprotect, args: { addr: $buf, pages: 1 } }")[0]).toMatch(/^f\.yaml:12:\d+: setup\.2\.args\.prot: /);
    expect(step("{ call: mremap, args: { addr: $buf, pages: 1, new_pages: 2, dontunmap: true } }")).toEqual([expect.stringMatching(/setup\.2\.args\.dontunmap: dontunmap: \(MREMAP_DONTUNMAP\) needs maymove: true/)]);
    expect(step("{ call: mremap, args: { addr: $buf, pages: 1, new_pages: 2, to: $buf+8 } }")).toEqual([expect.stringMatching(/setup\.2\.args\.to: to: \(MREMAP_FIXED\) needs maymove: true/)]);
    expect(step("{ call: mremap, args: { addr: $buf, pages: 1, newpages: 2 } }").join("\n")).toMatch(/setup\.2\.args/);
    expect(step("{ call: mmap, args: { pages: 1, fixed: MAP_FIXED } }")).toEqual([expect.stringMatching(/setup\.2\.args\.fixed: fixed: MAP_FIXED needs addr:/)]);
    expect(step("{ call: mmap, args: { pages: 1, page: 2 } }")).toEqual([expect.stringMatching(/setup\.2\.args\.page: page: is an offset from addr:/)]);
    expect(step("{ call: mmap, args: { pages: 1, addr: $buf, fixed: MAP_FIXED_NOREPLACE }, expect: { errno: EEXIST } }")).toEqual([]);
    expect(step("{ call: mmap, args: { pages: 1, addr: $buf, fixed: MAP_FIXD } }")[0]).toMatch(/setup\.2\.args\.fixed: expected one of hint, MAP_FIXED, MAP_FIXED_NOREPLACE/);
  });

  it("move_pages and machine nodes: misuse is caught with file:line:field", () => {
    const step = (text: string) => edit("{ call: memfd_create, args: { name: m, pages: 2 } }", `{ call: memfd_create, args: { name: m, pages: 2 } }\n  - ${text}`);
    expect(step("{ call: move_pages, args: { addr: $buf, pages: 2, nodes: [1, 0] }, expect: { field: status, equals: [1, 0] } }")).toEqual([]);
    expect(step("{ call: move_pages, args: { addr: $buf, pages: 2, nodes: [1] } }")).toEqual([expect.stringMatching(/^f\.yaml:12:\d+: setup\.2\.args\.nodes: nodes: lists 1 node\(s\) for 2 page\(s\)/)]);
    expect(step("{ call: move_pages, args: { addr: $buf, move_all: true } }")).toEqual([expect.stringMatching(/setup\.2\.args\.move_all: move_all: is ignored without nodes:/)]);
    expect(step("{ call: move_pages, args: { addr: $buf, nodes: -1 } }")[0]).toMatch(/setup\.2\.args\.nodes: /);
    expect(step("{ call: move_pages, args: { addr: $buf }, expect: { field: stat, equals: [0] } }")[0]).toMatch(/move_pages's result has no field "stat" \(did you mean "status"\?\)/);
    expect(edit("cpus: 2", "cpus: 2\n  nodes: 0")[0]).toMatch(/^f\.yaml:9:\d+: machine\.nodes: /);
    expect(edit("cpus: 2", "cpus: 2\n  nodes: two")[0]).toMatch(/^f\.yaml:9:\d+: machine\.nodes: /);
  });

  it("dmirror snapshot, release and multi-page writes: misuse is caught with file:line:field", () => {
    const step = (text: string) => edit("{ call: memfd_create, args: { name: m, pages: 2 } }", `{ call: memfd_create, args: { name: m, pages: 2 } }\n  - { call: dmirror_create, args: { name: d0 } }\n  - ${text}`);
    expect(step("{ call: dmirror_snapshot, args: { device: d0, addr: $buf, pages: 4 }, expect: { field: perms, equals: [0, 0, 0, 0] } }")).toEqual([]);
    expect(step("{ call: dmirror_snapshot, args: { device: d1, addr: $buf } }")[0]).toMatch(/^f\.yaml:13:\d+: setup\.3\.args\.device: no device named "d1"/);
    expect(step("{ call: dmirror_release, args: { device: d0 }, expect: { field: evicted, atLeast: 1 } }")).toEqual([]);
    expect(step("{ call: dmirror_write, args: { device: d0, addr: $buf, pages: 2, values: [1] } }")).toEqual([expect.stringMatching(/setup\.3\.args\.values: values: lists 1 value\(s\) for 2 page\(s\)/)]);
    expect(step("{ call: dmirror_write, args: { device: d0, addr: $buf } }")).toEqual([expect.stringMatching(/setup\.3\.args\.value: give value: \(every page\) or values: \(one per page\)/)]);
    expect(step("{ call: dmirror_read, args: { device: d0, addr: $buf, pages: 2 }, expect: { field: fault, equals: 1 } }")[0]).toMatch(/has no field "fault" \(did you mean "faults"\?\)/);
  });

  it("dmirror exclusive access: misuse is caught with file:line:field", () => {
    const step = (text: string) => edit("{ call: memfd_create, args: { name: m, pages: 2 } }", `{ call: memfd_create, args: { name: m, pages: 2 } }\n  - { call: dmirror_create, args: { name: d0 } }\n  - ${text}`);
    expect(step("{ call: dmirror_exclusive, args: { device: d0, addr: $buf, pages: 2 }, expect: [{ field: ret, equals: 0 }, { field: cpages, equals: 2 }, { field: values, equals: [null, null] }] }")).toEqual([]);
    expect(step("{ call: dmirror_check_exclusive, args: { device: d0, addr: $buf+1 }, expect: { field: ret, errno: EPERM } }")).toEqual([]);
    expect(step("{ call: dmirror_exclusive, args: { device: d1, addr: $buf } }")[0]).toMatch(/^f\.yaml:13:\d+: setup\.3\.args\.device: no device named "d1"/);
    expect(step("{ call: dmirror_exclusive, args: { device: d0, addr: $buf, pages: 0 } }")[0]).toMatch(/^f\.yaml:13:\d+: setup\.3\.args\.pages: /);
    expect(step("{ call: dmirror_exclusive, args: { device: d0, addr: $buf, npages: 2 } }").join("\n")).toMatch(/^f\.yaml:13:\d+: setup\.3\.args/);
    expect(step("{ call: dmirror_exclusive, args: { device: d0, addr: $buf }, expect: { field: cpage, equals: 1 } }")[0]).toMatch(/has no field "cpage" \(did you mean "cpages"\?\)/);
    expect(step("{ call: dmirror_check_exclusive, args: { device: d0, addr: $buf }, expect: { field: ret, errno: EPERMS } }")[0]).toMatch(/^f\.yaml:13:\d+: setup\.3\.expect\.errno: /);
    expect(step("{ call: dmirror_check_exclusive, args: { device: d0, addr: $nobuf } }")[0]).toMatch(/^f\.yaml:13:\d+: setup\.3\.args\.addr: /);
  });

  it("check: steps only observe; metric only in check:; loops are bounded", () => {
    expect(edit("{ call: metric, args: { name: lru_add_drain_all }", "{ call: lru_add_drain, args: {}")).toEqual([expect.stringMatching(/check\.0\.call: lru_add_drain changes state; a check: step may only observe/)]);
    expect(edit("- { call: folio_state, args: { addr: $buf+1 }", "- { call: metric, args: { name: lru_add_drain_all }")[0]).toMatch(/tasks\.0\.script\.1\.call: metric is only for check: steps/);
    expect(edit("{ call: metric, args: { name: lru_add_drain_all }", "{ call: metric, args: { name: lru_add_drian_all }")[0]).toMatch(/check\.0\.args\.name: expected one of .*found "lru_add_drian_all"/);
    expect(edit("expect: { field: PG_lru, equals: true }", "until: { field: PG_lru, equals: true }")).toEqual([expect.stringMatching(/tasks\.0\.script\.1\.until: a until: loop needs max:/)]);
    expect(edit("expect: { field: PG_lru, equals: true }", "until: { field: PG_lru, equals: true }, max: 5")).toEqual([]);
  });

  it("check: sees every task's bindings; a name two tasks bind is ambiguous there", () => {
    expect(edit("args: { addr: $buf }, expect: { field: pincount", "args: { addr: $pin.ret }, expect: { field: pincount")).toEqual([]);
    const two = BASE.replace("check:", "  - name: b\n    cpu: 1\n    script:\n      - { call: pin_user_pages, args: { addr: $buf }, as: pin }\ncheck:").replace("args: { addr: $buf }, expect: { field: pincount", "args: { addr: $pin.ret }, expect: { field: pincount");
    expect(issuesOf(two)).toEqual([expect.stringMatching(/check\.1\.args\.addr: "\$pin" is bound by more than one task/)]);
  });
});
