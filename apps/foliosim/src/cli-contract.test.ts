// The command line's promises to a reviewer: exit codes that say what happened, output
// that goes only where it is asked to, input limits checked up front, merge that trusts
// nothing, and replay commands that run as printed.
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync, existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { EXAMPLES_DIR } from "./catalog.js";
import { replayLine } from "./cli.js";
import { cli } from "./test-support.js";
import { EXIT } from "./exit-codes.js";
import { EXPECTED } from "./expected.js";
import { headlineKernels, CATALOG } from "@foliosim/scenarios";
import { clearRegisteredVariants } from "@foliosim/sim";

beforeAll(() => {
  process.env.FOLIOSIM_IN_THREAD = "1";
});

const S4 = join(EXAMPLES_DIR, "s4-transient-ref.yaml");
const tmp = (): string => mkdtempSync(join(tmpdir(), "foliosim-contract-"));

describe("exit codes say what happened", () => {
  it("compare: 0 when every cell has its expected verdict, failing cells on old kernels included", async () => {
    const r = await cli("compare", "transient-ref", "activate-batch", "--kernel", "linux-6.10", "--kernel", "linux-7.0", "--budget", "3", "--workers", "0", "--json");
    const doc = JSON.parse(r.stdout);
    expect(doc.results.map((x: { scenario: string; kernel: string; outcome: string; judgement: string }) => `${x.scenario} ${x.kernel} ${x.outcome} ${x.judgement}`)).toEqual([
      "activate-batch linux-6.10 fails as-expected",
      "activate-batch linux-7.0 holds as-expected",
      "transient-ref linux-6.10 fails as-expected",
      "transient-ref linux-7.0 fails as-expected",
    ]);
    expect(r.code).toBe(EXIT.ok);
    const text = await cli("compare", "transient-ref", "--kernel", "linux-7.0", "--budget", "3", "--workers", "0");
    expect(text.stdout).toContain("Expected verdicts: all 1 cell as expected");
  });

  it("compare: 1 when a cell differs from its expectation (a user file's promise is expected to hold)", async () => {
    const r = await cli("compare", S4, "--kernel", "linux-7.0", "--budget", "3", "--workers", "0");
    expect(r.code).toBe(EXIT.failed);
    expect(r.stdout).toMatch(/✗ fails \d+% · 500\.01 ms \(expected holds\)/);
    expect(r.stdout).toMatch(/≠ example-s4-transient-ref on linux-7\.0: fails, expected holds/);
  });

  it("an inconclusive result exits 3 and says what ran out", async () => {
    const run = await cli("run", "transient-ref", "--kernel", "linux-7.0", "--max-steps", "20", "--trace", "none");
    expect(run.code).toBe(EXIT.inconclusive);
    expect(run.stdout).toContain("? inconclusive");
    const explore = await cli("explore", "transient-ref", "--kernel", "linux-7.0", "--max-steps", "20", "--budget", "3");
    expect(explore.code).toBe(EXIT.inconclusive);
    expect(explore.stdout).toContain("Inconclusive executions (no verdict within their budget): 3/3 hit the step budget");
    const compare = await cli("compare", "transient-ref", "--kernel", "linux-7.0", "--max-steps", "20", "--budget", "3", "--workers", "0");
    expect(compare.code).toBe(EXIT.inconclusive);
    expect(compare.stdout).toContain("? inconclusive 3/3 hit the step budget");
    expect(compare.stdout).not.toMatch(/inconclusive 0 ?%/);
  });

  it("every catalog scenario declares its expected verdict on every headline kernel", () => {
    for (const s of CATALOG) for (const k of headlineKernels()) expect(EXPECTED[s.id]?.[k], `${s.id} on ${k}`).toBeDefined();
  });
});

describe("--version and versions in every JSON document", () => {
  it("--version prints the tool and model versions; list and run documents carry them", async () => {
    const v = await cli("--version");
    expect(v.code).toBe(EXIT.ok);
    expect(v.stdout).toMatch(/^foliosim \d+\.\d+\.\d+\nmodel: @foliosim\/explore \d/);
    const variant = join(dirname(S4), "variants", "drain-unexplained-refs.ts");
    for (const argv of [
      ["list", "--json"],
      ["run", "transient-ref", "--trace", "none", "--json"],
      ["validate", S4, "--json"],
      ["explore", "transient-ref", "--kernel", "linux-7.0", "--budget", "2", "--json"],
      ["compare", "transient-ref", "--kernel", "linux-7.0", "--budget", "2", "--workers", "0", "--json"],
      ["evaluate", "--kernel", "linux-7.0", "--variant", variant, "transient-ref", "--budget", "2", "--json"],
    ]) {
      const doc = JSON.parse((await cli(...argv)).stdout);
      expect(Object.keys(doc).slice(0, 3), argv.join(" ")).toEqual(["schemaVersion", "tool", "model"]);
      expect(doc.tool.name).toBe("foliosim");
      expect(doc.model["@foliosim/scenarios"]).toMatch(/^\d+\.\d+\.\d+/);
    }
    expect((await cli("list")).stdout).toMatch(/^foliosim \d+\.\d+\.\d+\n/);
  });
});

describe("output goes only where it is asked to", () => {
  it("run --trace X without --out: only the trace on stdout, the report on stderr", async () => {
    const r = await cli("run", "transient-ref", "--kernel", "linux-7.0", "--set", "hold_ns=1000", "--trace", "perfetto");
    expect(r.code).toBe(EXIT.ok);
    expect(() => JSON.parse(r.stdout)).not.toThrow();
    expect(r.stderr).toContain("Verdict: ✓ holds");
  });

  it("--out refuses devices, directories and missing directories (exit 2) and writes through an exclusive temporary file", async () => {
    const dir = tmp();
    for (const [out, message] of [
      ["/dev/null", "not a regular file"],
      [dir, "is a directory"],
      [join(dir, "missing", "x.json"), "does not exist"],
    ]) {
      const r = await cli("run", "transient-ref", "--trace", "none", "--out", out);
      expect(r.code, out).toBe(EXIT.usage);
      expect(r.stderr).toContain(message);
    }
    // A symlink planted where the old temporary name was is never followed.
    const target = join(dir, "victim.txt");
    writeFileSync(target, "keep");
    const out = join(dir, "trace.txt");
    symlinkSync(target, `${out}.tmp-${process.pid}`);
    const r = await cli("run", "transient-ref", "--set", "hold_ns=1000", "--out", out);
    expect(r.code).toBe(EXIT.ok);
    expect(readFileSync(target, "utf8")).toBe("keep");
    expect(readFileSync(out, "utf8")).toContain("# tracer: nop");
    expect(readdirSync(dir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });
});

describe("limits and input errors: exit 2 with file and field, up front", () => {
  it("budgets, workers, steps and depth are bounded", async () => {
    for (const argv of [
      ["explore", "transient-ref", "--budget", "100000000000"],
      ["explore", "transient-ref", "--max-steps", "99999999999"],
      ["explore", "transient-ref", "--depth", "1000"],
      ["compare", "transient-ref", "--workers", "100000"],
      ["run", "transient-ref", "--max-steps", "99999999999"],
    ]) {
      const r = await cli(...argv);
      expect(r.code, argv.join(" ")).toBe(EXIT.usage);
      expect(r.stderr, argv.join(" ")).toMatch(/^foliosim: --\S+ \d+: at most/);
    }
  });

  it("a bad --set value is exit 2 in run, explore and compare alike", async () => {
    for (const argv of [["run"], ["explore"], ["compare", "--workers", "0"]]) {
      const [command, ...rest] = argv;
      const r = await cli(command, "lock-waiter-ref", "--set", "mode=MIGRATE_SOMETIMES", "--kernel", "linux-7.0", ...rest);
      expect(r.code, command).toBe(EXIT.usage);
      expect(r.stderr).not.toContain("internal error");
    }
  });

  it("YAML: an unresolved alias, an alias bomb and duplicate keys are reported with file:line, and one bad file never hides the others", async () => {
    const dir = tmp();
    const alias = join(dir, "alias.yaml");
    writeFileSync(alias, readFileSync(S4, "utf8").replace(/^title: .*$/m, "title: *nowhere"));
    const bomb = join(dir, "bomb.yaml");
    const lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 0; i < 8; i++) lines.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`);
    writeFileSync(bomb, lines.join("\n") + "\n");
    const dup = join(dir, "dup.yaml");
    writeFileSync(dup, readFileSync(S4, "utf8").replace(/^(title: .*)$/m, "$1\ntitle: again"));
    const r = await cli("validate", alias, bomb, dup, S4);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stdout).toMatch(/alias\.yaml:\d+:\d+: \(root\): YAML alias \*nowhere refers to no anchor/);
    expect(r.stdout).toMatch(/bomb\.yaml:1:1: \(root\): YAML aliases: .*at most 100 alias expansions/);
    expect(r.stdout).toMatch(/dup\.yaml:\d+:\d+: \(root\): duplicate key "title"/);
    expect(r.stdout).toMatch(/✓ .*s4-transient-ref\.yaml/);
    expect(r.stdout).not.toContain("expected Invalid input");
  });

  it("a file too large, and a machine too large, are refused before anything runs", async () => {
    const dir = tmp();
    const big = join(dir, "big.yaml");
    writeFileSync(big, "# " + "x".repeat(2 * 1024 * 1024) + "\n");
    const huge = join(dir, "huge.yaml");
    writeFileSync(huge, readFileSync(S4, "utf8").replace(/memory: \{[^}]*\}/, "memory: { Normal: 1000000000000 }"));
    const r = await cli("validate", big, huge);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stdout).toContain("more than the 1048576-byte limit");
    expect(r.stdout).toMatch(/huge\.yaml:\d+:\d+: machine\.memory\.Normal: at most 65536 pages/);
    for (const argv of [["run", huge], ["explore", huge], ["compare", huge, "--workers", "0"]]) {
      const x = await cli(...argv);
      expect(x.code, argv[0]).toBe(EXIT.usage);
    }
  });

  it("an address as a page count, or a ${param} beyond the limit, is refused by validate (fuzz file #17464 died of a heap OOM in run); a count from a result is checked as it runs", async () => {
    const dir = tmp();
    const s4 = readFileSync(S4, "utf8");
    // The fuzz file: the longterm pin's `pages:` is `$buf`, an address (billions of pages).
    const bound = join(dir, "bound.yaml");
    writeFileSync(bound, s4.replace("args: { addr: $buf, pages: 1 }", "args: { addr: $buf, pages: $buf }"));
    // Chunk 32000's file: `pages: ${hold_ns}`, whose default is 500,000,000.
    const param = join(dir, "param.yaml");
    writeFileSync(param, s4.replace("args: { addr: $buf, pages: 1 }", 'args: { addr: $buf, pages: "${hold_ns}" }'));
    for (const f of [bound, param]) expect(readFileSync(f, "utf8"), f).not.toBe(s4);
    const r = await cli("validate", bound, param);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stdout).toMatch(/bound\.yaml:\d+:\d+: tasks\.1\.script\.1\.args\.pages: expected a page count from 1 to 65536, found "\$buf" \(a string\), which is an address/);
    expect(r.stdout).toMatch(/param\.yaml:\d+:\d+: tasks\.1\.script\.1\.args\.pages: expected at most 65536, found 500000000 \(a number\) \(the value of \$\{hold_ns\}\)/);
    for (const argv of [["run", bound, "--trace", "none"], ["explore", param, "--budget", "2"]]) {
      const x = await cli(...argv);
      expect(x.code, argv[0]).toBe(EXIT.usage);
      expect(x.stderr, argv[0]).toMatch(/args\.pages: expected/);
    }
    // A count from an earlier result validates, and is checked when the step runs: a scenario error, exit 2.
    const counted = join(dir, "counted.yaml");
    writeFileSync(counted, s4.replace("as: buf }", "as: buf }\n  - { call: usleep, args: { us: 1 }, as: zero }").replace("args: { addr: $buf, pages: 1 }", "args: { addr: $buf, pages: $zero }"));
    expect((await cli("validate", counted)).code).toBe(EXIT.ok);
    const run = await cli("run", counted, "--trace", "none");
    expect(run.code).toBe(EXIT.usage);
    expect(run.stderr).toMatch(/pin_user_pages.*arguments after substitution: pages: /);
  });

  it("the dmirror devices' memory, repeats included, is bounded up front (1,000 devices of 65,536 pages ran out of heap)", async () => {
    const dir = tmp();
    const devices = join(dir, "devices.yaml");
    writeFileSync(devices, readFileSync(S4, "utf8").replace("as: buf }", "as: buf }\n  - { call: dmirror_create, args: { name: d0, pages: 65536 }, repeat: 1000 }"));
    const r = await cli("validate", devices);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stdout).toMatch(/devices\.yaml:27:\d+: setup\.1: at most 262144 pages of dmirror device memory in all .*found 65536000 by this step \(65536 pages × 1000 runs\)/);
    expect((await cli("run", devices, "--trace", "none")).code).toBe(EXIT.usage);
  });

  it("memory in all counts every NUMA node", async () => {
    const dir = tmp();
    const nodes = join(dir, "nodes.yaml");
    writeFileSync(nodes, readFileSync(S4, "utf8").replace(/memory: \{[^}]*\}/, "memory: { Normal: 60000, Movable: 60000 }\n  nodes: 8"));
    const r = await cli("validate", nodes);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stdout).toMatch(/nodes\.yaml:\d+:\d+: machine\.memory: at most 262144 pages in all, found 960000 \(120000 on each of 8 nodes\)/);
  });

  it("a user file whose id is a catalog id, or two files with one id, are reported, not silently merged", async () => {
    const dir = tmp();
    const clash = join(dir, "clash.yaml");
    writeFileSync(clash, readFileSync(S4, "utf8").replace(/^id: .*$/m, "id: transient-ref"));
    for (const argv of [["explore", clash], ["compare", clash, "--workers", "0"]]) {
      const command = argv[0];
      const r = await cli(...argv, "--kernel", "linux-7.0", "--budget", "2");
      expect(r.code, command).toBe(EXIT.usage);
      expect(r.stderr).toContain(`${clash}: scenario id "transient-ref" is also a catalog scenario's id`);
    }
    const copy = join(dir, "copy.yaml");
    writeFileSync(copy, readFileSync(S4, "utf8"));
    const two = await cli("compare", S4, copy, "--kernel", "linux-7.0", "--budget", "2", "--workers", "0");
    expect(two.code).toBe(EXIT.usage);
    expect(two.stderr).toContain('both declare scenario id "example-s4-transient-ref"');
  });

  it("control characters from a scenario file are escaped in text output; a path with ':' works", async () => {
    const dir = join(tmp(), "a:b");
    mkdirSync(dir);
    const file = join(dir, "ctl.yaml");
    writeFileSync(file, readFileSync(S4, "utf8").replace("name: pinner", 'name: "p\\e[2J\\rx"'));
    const badCall = join(dir, "call.yaml");
    writeFileSync(badCall, readFileSync(S4, "utf8").replace("call: pin_user_pages", 'call: "pin\\e]0;owned\\a"'));
    const v = await cli("validate", file, badCall);
    expect(v.code).toBe(EXIT.usage);
    expect(v.stdout).toMatch(/✓ .*a:b\/ctl\.yaml/);
    expect(v.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
    expect(v.stdout).toContain("pin\\x1b]0;owned\\x07");
    const run = await cli("run", file, "--kernel", "linux-7.0", "--trace", "none");
    expect(run.code).toBe(EXIT.failed);
    expect(run.stdout).toContain("p\\x1b[2J\\x0dx: pin_user_pages");
    expect(run.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
    const compare = await cli("compare", file, "--kernel", "linux-7.0", "--budget", "2", "--workers", "0");
    expect(compare.code).toBe(EXIT.failed);
    expect(compare.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
    // The printed replay command quotes the path and runs as printed.
    expect(compare.stdout).toContain(`--scenario ${file}`);
    const explore = await cli("explore", file, "--kernel", "linux-7.0", "--budget", "2");
    expect(explore.code).toBe(EXIT.failed);
    expect(explore.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
    const variant = join(dirname(S4), "variants", "drain-unexplained-refs.ts");
    const evaluate = await cli("evaluate", "--kernel", "linux-7.0", "--variant", variant, file, "--budget", "2");
    expect([EXIT.ok, EXIT.failed], evaluate.stderr).toContain(evaluate.code);
    expect(evaluate.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
  });
});

describe("compare --set and replay commands that run as printed", () => {
  it("compare accepts --set for the scenarios that have the parameter and shows it in the row label", async () => {
    const r = await cli("compare", "lock-waiter-ref", "transient-ref", "--set", "mode=MIGRATE_SYNC", "--kernel", "linux-7.0", "--budget", "2", "--workers", "0");
    expect(r.stdout).toContain("lock-waiter-ref[mode=MIGRATE_SYNC]");
    expect(r.stdout).toMatch(/\ntransient-ref\s/);
    const unknown = await cli("compare", "transient-ref", "--set", "nope=1", "--workers", "0");
    expect(unknown.code).toBe(EXIT.usage);
    expect(unknown.stderr).toContain("--set nope: no scenario of this matrix has that parameter");
  });

  it("the replay command printed for a user file's counterexample runs as printed", async () => {
    const r = await cli("explore", S4, "--kernel", "linux-7.0", "--set", "hold_ns=1000", "--max-steps", "40", "--budget", "2");
    // An inconclusive run is no counterexample: use the inconclusive token's row instead.
    expect(r.code).toBe(EXIT.inconclusive);
    const c = await cli("compare", S4, "--kernel", "linux-7.0", "--set", "hold_ns=1000", "--budget", "2", "--workers", "0", "--json");
    expect(JSON.parse(c.stdout).results[0].scenario).toBe("example-s4-transient-ref[hold_ns=1000]");
    const failing = await cli("explore", S4, "--kernel", "linux-6.11+collect=will-v1", "--budget", "2");
    const line = failing.stdout.split("\n").find((l) => l.includes("replay: foliosim replay"))!;
    const words = line.replace(/^\s*replay: /, "").replace(/\s+\(shrunk\)$/, "").split(" ");
    expect(words).toEqual(expect.arrayContaining(["--scenario", S4, "--kernel", "linux-6.11+collect=will-v1"]));
    const again = await cli(...words.slice(1), "--trace", "none");
    expect(again.code).toBe(EXIT.failed);
  });
});

describe("replay of a catalog scenario run with --set", () => {
  it("runs as printed: the catalog scenarios without that parameter are skipped, not an error", async () => {
    const run = await cli("run", "transient-ref", "--kernel", "linux-7.0", "--set", "hold_ns=1000", "--trace", "none", "--json");
    const token = JSON.parse(run.stdout).schedule as string;
    const line = replayLine(new Map())("transient-ref[hold_ns=1000]", "linux-7.0", token);
    expect(line).toBe(`foliosim replay ${token} --set hold_ns=1000`);
    // It once answered: scenario pkvm-mlock-cma has no parameter "hold_ns".
    const again = await cli(...line.split(" ").slice(1), "--trace", "none", "--json");
    expect(again.stderr).toBe("");
    expect([JSON.parse(again.stdout).scenario, JSON.parse(again.stdout).kernel]).toEqual(["transient-ref[hold_ns=1000]", "linux-7.0"]);
    // With --scenario the parameter must exist there (a clear input error).
    const wrong = await cli("replay", token, "--scenario", "pkvm-mlock-cma", "--set", "hold_ns=1000", "--trace", "none");
    expect(wrong.code).toBe(EXIT.usage);
    expect(wrong.stderr).toMatch(/scenario pkvm-mlock-cma has no parameter "hold_ns"/);
  });
});

describe("replay commands of user variants", () => {
  it("name the variant module a kernel uses (--variant), so they run as printed in a fresh process", async () => {
    const module = join(EXAMPLES_DIR, "variants", "drain-too-late.ts");
    const c = await cli("compare", "pkvm-mlock-cma", "--variant", module, "--kernel", "linux-6.11+collect=drain-too-late", "--budget", "2", "--workers", "0");
    const line = c.stdout.split("\n").find((l) => l.includes("foliosim replay fs1."))!;
    const words = line.slice(line.indexOf("foliosim replay")).split(" ");
    expect(words.slice(3)).toEqual(["--kernel", "linux-6.11+collect=drain-too-late", "--variant", module]);
    clearRegisteredVariants(); // as a fresh process has none
    const without = await cli(...words.slice(1, 5), "--trace", "none");
    expect(without.code).toBe(EXIT.usage);
    clearRegisteredVariants();
    const again = await cli(...words.slice(1), "--trace", "none");
    expect(again.code, again.stderr).toBe(EXIT.failed);
  });
});

describe("replayLine", () => {
  it("adds --scenario, --kernel and --set when the catalog and presets do not say, quoting what the shell would split", () => {
    const line = replayLine(new Map([["mine", "/tmp/my dir/s.yaml"]]));
    expect(line("mine[hold_ns=1000]", "linux-7.0", "fs1.0123abcd.AQ")).toBe("foliosim replay fs1.0123abcd.AQ --scenario '/tmp/my dir/s.yaml' --kernel linux-7.0 --set hold_ns=1000");
    expect(line("transient-ref", "linux-7.0", "fs1.0123abcd")).toBe("foliosim replay fs1.0123abcd");
    expect(line("lock-waiter-ref[mode=MIGRATE_SYNC]", "linux-6.11+collect=will-v1", "fs1.0123abcd.AQ")).toBe("foliosim replay fs1.0123abcd.AQ --kernel linux-6.11+collect=will-v1 --set mode=MIGRATE_SYNC");
  });
});

describe("merge trusts nothing", () => {
  const common = [S4, "--kernel", "linux-7.0", "--kernel", "linux-6.10", "--budget", "2", "--workers", "0"];

  it("refuses doubled, foreign and misnumbered shards; names missing cells; --partial marks an incomplete matrix", async () => {
    const dir = tmp();
    const p1 = join(dir, "p1.json");
    const p2 = join(dir, "p2.json");
    await cli("compare", ...common, "--shard", "1/2", "--out", p1);
    await cli("compare", ...common, "--shard", "2/2", "--out", p2);
    expect((await cli("merge", p1, p2)).code).toBe(EXIT.failed); // complete; S4 fails where a user file is expected to hold
    const twice = await cli("merge", p1, p1, p2);
    expect(twice.code).toBe(EXIT.usage);
    expect(twice.stderr).toContain("shard 1/2 is given twice");
    const bad = JSON.parse(readFileSync(p2, "utf8"));
    const renumbered = join(dir, "p4of3.json");
    writeFileSync(renumbered, JSON.stringify({ ...bad, shard: { index: 4, count: 3 } }));
    const r4 = await cli("merge", p1, renumbered);
    expect(r4.code).toBe(EXIT.usage);
    expect(r4.stderr).toContain("shard 4/3 is not numbered i/N");
    const doubled = join(dir, "doubled.json");
    writeFileSync(doubled, JSON.stringify({ ...bad, cells: [...bad.cells, ...bad.cells] }));
    const rd = await cli("merge", p1, doubled);
    expect(rd.code).toBe(EXIT.usage);
    expect(rd.stderr).toContain("is given twice");
    const foreign = join(dir, "foreign.json");
    const one = JSON.parse(readFileSync(p1, "utf8"));
    writeFileSync(foreign, JSON.stringify({ ...bad, cells: one.cells }));
    expect((await cli("merge", p1, foreign)).stderr).toContain("does not belong to shard 2/2");
    const other = join(dir, "other.json");
    writeFileSync(other, JSON.stringify({ ...bad, matrix: { ...bad.matrix, kernels: ["linux-6.11", "linux-7.0"] } }));
    expect((await cli("merge", p1, other)).stderr).toContain("comes from a different sweep");
    const lone = await cli("merge", p2);
    expect(lone.code).toBe(EXIT.usage);
    expect(lone.stderr).toContain("missing shard 1/2; 1 cell(s) missing: example-s4-transient-ref × linux-6.10 × pct-d3");
    const partial = await cli("merge", p2, "--partial", "--json");
    expect(JSON.parse(partial.stdout).interrupted).toBe(true);
    expect(existsSync(p1)).toBe(true);
  });
});

