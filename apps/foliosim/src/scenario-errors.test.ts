/**
 * Every model-usage error a scenario can cause ends as a scenario error (exit 2, the
 * file, line and column of the step, the step's path and call), in run, explore and
 * compare, never as a kernel "invariant" failure. One file per kind of misuse the
 * layers detect while running: an access nothing maps (SIGSEGV) or past a file's end
 * (SIGBUS), fork_device_entry from or to an address nothing maps, of an entry that is
 * not device-private or onto a mapped target (copy_nonpresent_pte), a machine too small
 * for a fault, a fork or a device eviction (OOM), pins released under a handle nothing
 * kept, and a second process of one name. Misuses the kernel answers with an error code
 * instead (an unaligned MAP_FIXED address, munmap twice) run to a verdict.
 */

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { EXIT } from "./exit-codes.js";
import { cli } from "./test-support.js";

beforeAll(() => {
  process.env.FOLIOSIM_IN_THREAD = "1";
});

const DIR = mkdtempSync(join(tmpdir(), "foliosim-misuse-"));

/** A one-task scenario: `script` lines start at line 12 (the first is tasks.0.script.0). */
function scenario(name: string, script: string[], memory = "{ Normal: 32 }", setup: string[] = []): string {
  const file = join(DIR, `${name}.yaml`);
  const lines = [
    `id: misuse-${name}`,
    "title: t",
    "description: d",
    "source: { seeds: [] }",
    `machine: { cpus: 1, memory: ${memory} }`,
    "setup:",
    "  - { call: mmap, args: { pages: 2 }, as: buf }",
    ...setup.map((s) => `  - ${s}`),
    "tasks:",
    "  - name: a",
    "    cpu: 0",
    "    script:",
    ...script.map((s) => `      - ${s}`),
    "promise: { summary: s }",
  ];
  writeFileSync(file, lines.join("\n") + "\n");
  return file;
}

const DEVICE = ["{ call: user_write, args: { addr: $buf, value: 1 } }", "{ call: dmirror_create, args: { name: gpu } }", "{ call: dmirror_migrate_to_device, args: { device: gpu, addr: $buf, pages: 1 } }"];

/** [name, script, the failing step's index, its call, what the message says, memory]. */
const CASES: [string, string[], number, string, RegExp, string?][] = [
  ["segv", ["{ call: munmap, args: { addr: $buf, pages: 2 } }", "{ call: touch, args: { addr: $buf } }"], 1, "touch", /touch: p0 address 0x[0-9a-f]+: SIGSEGV: no vma maps this address/],
  ["sigbus", ["{ call: memfd_create, args: { name: f, pages: 1 } }", "{ call: mmap, args: { pages: 2, file: f, shared: true }, as: m }", "{ call: touch, args: { addr: $m, page: 1 } }"], 2, "touch", /SIGBUS: access past the end of the mapped file/],
  ["fork-entry-no-source", ["{ call: fork_device_entry, args: { addr: 4096000, to: q, to_addr: 0 } }"], 0, "fork_device_entry", /copy_nonpresent_pte: p0: no vma at 0x3e8000/],
  ["fork-entry-no-target", [...DEVICE, "{ call: fork_device_entry, args: { addr: $buf, to: q, to_addr: 4096000 } }"], 3, "fork_device_entry", /copy_nonpresent_pte: q: no vma at 0x3e8000/],
  ["fork-entry-not-device", ["{ call: touch, args: { addr: $buf } }", "{ call: fork_device_entry, args: { addr: $buf, to: p0, to_addr: $buf } }"], 1, "fork_device_entry", /copy_nonpresent_pte: p0: not a device-private entry at 0x[0-9a-f]+/],
  ["fork-entry-onto-mapped", [...DEVICE, "{ call: touch, args: { addr: $buf, page: 1 } }", "{ call: fork_device_entry, args: { addr: $buf, to: p0, to_addr: $buf+1 } }"], 4, "fork_device_entry", /copy_nonpresent_pte: p0: the target 0x[0-9a-f]+ already has a present entry/],
  ["oom-fault", ["{ call: mmap, args: { pages: 4 }, as: big }", "{ call: touch, args: { addr: $big, write: true } }", "{ call: touch, args: { addr: $big, page: 1, write: true } }", "{ call: touch, args: { addr: $big, page: 2, write: true } }"], 3, "touch", /VM_FAULT_OOM: no memory for the fault \(the scenario's machine has run out of memory: give machine\.memory more pages\)/, "{ Normal: 2 }"],
  ["oom-fork", ["{ call: touch, args: { addr: $buf, write: true } }", "{ call: touch, args: { addr: $buf, page: 1, write: true } }", "{ call: pin_user_pages, args: { addr: $buf, pages: 2, flags: [FOLL_WRITE], keep: true } }", "{ call: fork, args: { child: c } }"], 3, "fork", /copy_present_page: .*no memory for the child's copy \(fork fails with -ENOMEM\): the scenario's machine has run out of memory/, "{ Normal: 2 }"],
  ["oom-evict", [...DEVICE, "{ call: mmap, args: { pages: 1 }, as: o }", "{ call: touch, args: { addr: $o, write: true } }", "{ call: dmirror_release, args: { device: gpu } }"], 5, "dmirror_release", /dmirror_device_evict_chunk: gpu: __GFP_NOFAIL allocation failed \(no system memory left: the scenario's machine has run out of memory/, "{ Normal: 1 }"],
  ["unknown-pins", ["{ call: unpin_user_pages, args: { pins: nothing } }"], 0, "unpin_user_pages", /no pins kept under "nothing"/],
  ["fork-twice", ["{ call: fork, args: { child: c } }", "{ call: fork, args: { child: c } }"], 1, "fork", /process "c" already exists/],
];

describe("a scenario that misuses the model is a scenario error (exit 2, file:line and step), never a kernel invariant", () => {
  it.each(CASES)("%s", async (name, script, index, call, message, memory) => {
    const file = scenario(name, script, memory);
    const r = await cli("run", file, "--trace", "none");
    const where = `${file}:${12 + index}:9: scenario error: tasks.0.script.${index} (${call}): `;
    expect(r.stderr.startsWith(`foliosim: ${where}`), r.stderr + r.stdout).toBe(true);
    expect(r.stderr).toMatch(message);
    expect(r.stderr + r.stdout).not.toMatch(/invariant|internal error/);
    expect(r.code).toBe(EXIT.usage);
  });

  it("explore and compare say the same (exit 2, every row's scenario error), with the JSON failure of kind scenario", async () => {
    const file = scenario("fork-entry-no-target", [...DEVICE, "{ call: fork_device_entry, args: { addr: $buf, to: q, to_addr: 4096000 } }"]);
    const explore = await cli("explore", file, "--budget", "3", "--json");
    expect(explore.code).toBe(EXIT.usage);
    expect(JSON.parse(explore.stdout).results[0].failures.map((f: { kind: string }) => f.kind)).toEqual(["scenario"]);
    expect(explore.stderr).toMatch(/fork-entry-no-target\.yaml:15:9: scenario error: tasks\.0\.script\.3 \(fork_device_entry\): copy_nonpresent_pte: q: no vma/);
    const compare = await cli("compare", file, "--kernel", "linux-6.11", "--kernel", "linux-7.0", "--budget", "2", "--workers", "0");
    expect(compare.code).toBe(EXIT.usage);
    expect(compare.stderr.match(/scenario error: tasks\.0\.script\.3 \(fork_device_entry\)/g)).toHaveLength(2);
    expect(compare.stderr).not.toMatch(/invariant/);
  });

  it("what the kernel answers with an error code runs to a verdict: an unaligned hint is rounded up, MAP_FIXED there is -EINVAL, munmap twice is 0", async () => {
    const file = scenario("answered", [
      "{ call: mmap, args: { pages: 1, addr: 1879048193 }, expect: { equals: 1879052288 } }",
      "{ call: mmap, args: { pages: 1, addr: 1879048193, fixed: MAP_FIXED }, expect: { errno: EINVAL } }",
      "{ call: munmap, args: { addr: $buf, pages: 2 }, expect: { equals: 0 } }",
      "{ call: munmap, args: { addr: $buf, pages: 2 }, expect: { equals: 0 } }",
    ]);
    const r = await cli("run", file, "--trace", "none");
    expect(r.stdout).toMatch(/Verdict: ✓ holds/);
    expect(r.code).toBe(EXIT.ok);
  });
});
