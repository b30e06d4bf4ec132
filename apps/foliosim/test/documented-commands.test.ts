/**
 * Every command the documentation prints works as written: README.md,
 * apps/foliosim/README.md and the header comments of the example files are scanned for
 * commands, and each one is run against the built CLI exactly as printed (from the
 * directory a reader would type it in), with `FOLIOSIM_BUDGET_CAP` capping executions
 * and shrink runs so the suite stays fast. A command works when it reaches a result
 * (exit 0, 1 or 3; `validate` 0), never a usage error, an internal error or a stack trace.
 *
 * Synopsis lines (`<id>`, `[--seed N]`, `…`) cannot run as printed: their command must
 * exist and every option they name must be one the command accepts. `pnpm run X` lines
 * must name a script that exists. Commands that need a Redis server or the public npm
 * registry are listed (and counted) here, and run by `pnpm test:queue` and
 * `pnpm test:release` instead.
 */

import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const APP = fileURLToPath(new URL("..", import.meta.url));
const ROOT = join(APP, "..", "..");
const BIN = join(APP, "dist", "bin.js");
const CAP = "1";

const SUBCOMMANDS = ["list", "run", "explore", "compare", "merge", "replay", "validate", "tui", "worker", "evaluate"];
/** The ways the docs spell "the foliosim CLI". */
const CLI_PREFIXES = [/^npx --yes pnpm@[\d.]+ (?:--silent )?foliosim(?=\s|$)/, /^pnpm exec foliosim(?=\s|$)/, /^node apps\/foliosim\/dist\/bin\.js(?=\s|$)/, /^foliosim(?=\s|$)/];

export interface DocCommand {
  /** The file it is printed in, relative to the repository root, and its line. */
  where: string;
  text: string;
  /** Where a reader types it: the repository root, the app, or the directory of the file it names. */
  cwd: string;
}

type Kind =
  | { kind: "cli"; args: string[] }
  | { kind: "synopsis"; command: string; options: string[] }
  | { kind: "script"; pkg: string; script: string }
  | { kind: "elsewhere"; why: string };

// ------------------------------------------------------------------ extraction

function markdownCommands(file: string, cwd: string): DocCommand[] {
  const out: DocCommand[] = [];
  const lines = readFileSync(file, "utf8").split("\n");
  let fence: string | null = null;
  lines.forEach((line, i) => {
    const where = `${relative(ROOT, file)}:${i + 1}`;
    const open = /^```(\w*)/.exec(line);
    if (open) {
      fence = fence === null ? open[1] : null;
      return;
    }
    if (fence === "sh") {
      const text = line.replace(/\s+#.*$/, "").trim();
      if (text && !text.startsWith("#")) for (const part of text.split(" && ")) out.push({ where, text: part.trim(), cwd });
      return;
    }
    if (fence !== null) return;
    for (const m of line.matchAll(/`([^`]+)`/g)) {
      const text = m[1].trim();
      if (isCli(text) || /^(?:npx --yes pnpm@[\d.]+ |pnpm )(?:run |-F |--filter )?\S/.test(text)) out.push({ where, text, cwd });
    }
  });
  return out;
}

/** `foliosim <subcommand> …` in the comment header of a scenario file or a variant module. */
function headerCommands(file: string): DocCommand[] {
  const out: DocCommand[] = [];
  readFileSync(file, "utf8").split("\n").forEach((line, i) => {
    if (!/^\s*(#|\*|\/\/)/.test(line)) return;
    const m = new RegExp(`\\bfoliosim (?:${SUBCOMMANDS.join("|")})\\b[^\`]*`).exec(line);
    if (m) out.push({ where: `${relative(ROOT, file)}:${i + 1}`, text: m[0].trim(), cwd: APP });
  });
  return out;
}

function filesUnder(dir: string, ext: RegExp): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name), ext) : ext.test(e.name) ? [join(dir, e.name)] : []));
}

export function documentedCommands(): DocCommand[] {
  return [
    ...markdownCommands(join(ROOT, "README.md"), ROOT),
    ...markdownCommands(join(APP, "README.md"), APP),
    ...filesUnder(join(APP, "examples"), /\.(ya?ml|json|ts|js)$/).flatMap(headerCommands),
  ];
}

// ------------------------------------------------------------------ classification

function isCli(text: string): boolean {
  return CLI_PREFIXES.some((p) => p.test(text));
}

/** Shell words, with '…' and "…" quoting (enough for the docs' commands). */
function words(text: string): string[] {
  return [...text.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
}

export function classify(c: DocCommand): Kind {
  const t = c.text;
  if (/--queue\b|^redis-server\b/.test(t)) return { kind: "elsewhere", why: "needs a Redis server: pnpm test:queue" };
  if (/^npm install foliosim\b|^npx (?:--yes )?foliosim\b/.test(t)) return { kind: "elsewhere", why: "installs foliosim from the npm registry: pnpm test:release rehearses it" };
  if (/^npx --yes pnpm@[\d.]+ install\b/.test(t)) return { kind: "elsewhere", why: "the installation this suite runs in" };
  const script = /^(?:npx --yes pnpm@[\d.]+|pnpm) (?:run )?(?:(?:-F|--filter) (\S+) )?([\w:-]+)(?:\s|$)/.exec(t);
  if (script && !isCli(t) && !["exec", "install", "add"].includes(script[2])) return { kind: "script", pkg: script[1] ?? "", script: script[2] };
  const prefix = CLI_PREFIXES.find((p) => p.test(t));
  if (!prefix) throw new Error(`${c.where}: not a command this test knows how to run: ${t}`);
  const rest = t.replace(prefix, "").trim();
  const argv = words(rest);
  if (/[<>[\]…|*]|\$\(|\$\{?[A-Z]/.test(rest)) {
    const command = SUBCOMMANDS.includes(argv[0]) ? argv[0] : "";
    return { kind: "synopsis", command, options: [...new Set(rest.match(/--[a-z][\w-]*/g) ?? [])] };
  }
  if (argv.length === 0 || argv[0] === "tui") return { kind: "elsewhere", why: "the interactive app in a terminal: test/tmux.e2e.test.ts" };
  // A bare `foliosim validate` in a sentence names the command; it is not an invocation.
  if (argv.length === 1 && SUBCOMMANDS.includes(argv[0]) && argv[0] !== "list") return { kind: "synopsis", command: argv[0], options: [] };
  return { kind: "cli", args: argv };
}

// ------------------------------------------------------------------ running

const ran = new Map<string, ReturnType<typeof spawnOnce>>();

/** One run per (directory, arguments): the docs print some commands twice (`compare --all` is also `run main`). */
function foliosim(args: string[], cwd: string) {
  const key = JSON.stringify([cwd, args]);
  if (!ran.has(key)) ran.set(key, spawnOnce(args, cwd));
  return ran.get(key)!;
}

function spawnOnce(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: "utf8", env: { ...process.env, CI: "1", NO_COLOR: "1", FOLIOSIM_BUDGET_CAP: CAP }, timeout: 240_000, maxBuffer: 256 << 20 });
  return { code: r.status, signal: r.signal, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/** A variant module named `./x.ts` is typed in the directory that holds it. */
function cwdFor(c: DocCommand, args: string[]): string {
  const local = args.find((a) => /^\.\/[\w.-]+\.(ts|js|mjs)$/.test(a) || /[+=]\.\/[\w.-]+\.(ts|js|mjs)$/.test(a));
  if (!local) return c.cwd;
  const name = local.slice(local.indexOf("./") + 2);
  const dir = filesUnder(join(APP, "examples"), /\.(ts|js|mjs)$/).find((f) => f.endsWith(`/${name}`));
  return dir ? dirname(dir) : c.cwd;
}

function helpOf(command: string): string {
  const r = foliosim(command ? [command, "--help"] : ["--help"], APP);
  return r.stdout + r.stderr;
}

function packageScripts(filter: string): Record<string, string> {
  const dirs = filter === "" ? [ROOT] : [join(ROOT, "apps", "foliosim"), ...readdirSync(join(ROOT, "packages")).map((d) => join(ROOT, "packages", d)), ...readdirSync(join(ROOT, "tools")).map((d) => join(ROOT, "tools", d))];
  for (const dir of dirs) {
    const file = join(dir, "package.json");
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, "utf8")) as { name: string; scripts?: Record<string, string> };
    if (filter === "" || pkg.name === filter) return pkg.scripts ?? {};
  }
  throw new Error(`no package ${filter}`);
}

// ------------------------------------------------------------------ the tests

const commands = documentedCommands();
const classified = commands.map((c) => ({ c, k: classify(c) }));
const built = existsSync(BIN);

describe("the documented commands", () => {
  it("are found where the docs print them", () => {
    expect(commands.length).toBeGreaterThan(30);
    const files = new Set(commands.map((c) => c.where.replace(/:\d+$/, "")));
    expect(files).toContain("README.md");
    expect(files).toContain("apps/foliosim/README.md");
    expect(files).toContain("apps/foliosim/examples/s1-pkvm-mlock-cma.yaml");
    expect(files).toContain("apps/foliosim/examples/variants/drain-unexplained-refs.ts");
    // What runs elsewhere, and why: a new kind of command must be placed deliberately.
    const elsewhere = classified.filter((x) => x.k.kind === "elsewhere").map((x) => (x.k as { why: string }).why);
    expect(new Set(elsewhere).size).toBeLessThanOrEqual(4);
  });

  for (const { c, k } of classified) {
    if (k.kind === "cli") {
      it.skipIf(!built)(`${c.where}: ${c.text}`, () => {
        const cwd = cwdFor(c, k.args);
        const r = foliosim(k.args, cwd);
        const said = `\n$ (cd ${relative(ROOT, cwd) || "."} && ${c.text})\nexit ${r.code ?? r.signal}\n${r.stderr.slice(-2000)}`;
        expect(r.signal, said).toBeNull();
        expect(k.args[0] === "validate" ? [0] : [0, 1, 3], said).toContain(r.code);
        expect(r.stderr, said).not.toMatch(/internal error|\n\s+at \S+ \(/);
        expect(r.stdout.length, said).toBeGreaterThan(0);
      }, 300_000);
    } else if (k.kind === "synopsis") {
      it.skipIf(!built)(`${c.where}: ${c.text} (synopsis: its command and options exist)`, () => {
        const help = helpOf(k.command);
        for (const option of k.options) expect(help, `${c.where}: ${k.command || "foliosim"} has no ${option}`).toMatch(new RegExp(`${option}(?![\\w-])`));
      });
    } else if (k.kind === "script") {
      // A script that ends by running the CLI (`main`: build, then compare --all) runs that command too.
      const body = packageScripts(k.pkg)[k.script] ?? "";
      const cliPart = /node apps\/foliosim\/dist\/bin\.js (.+)$/.exec(body)?.[1];
      it.skipIf(cliPart !== undefined && !built)(`${c.where}: ${c.text} (the script exists${cliPart ? `; it runs foliosim ${cliPart}` : ""})`, () => {
        expect(Object.keys(packageScripts(k.pkg)), `${c.where}: no script "${k.script}" in ${k.pkg || "the root package.json"}`).toContain(k.script);
        if (cliPart === undefined) return;
        const r = foliosim(words(cliPart), ROOT);
        const said = `\n$ ${c.text}: foliosim ${cliPart}\nexit ${r.code ?? r.signal}\n${r.stderr.slice(-2000)}`;
        expect([0, 1, 3], said).toContain(r.code);
        expect(r.stderr, said).not.toMatch(/internal error|\n\s+at \S+ \(/);
      }, 300_000);
    }
  }
});
