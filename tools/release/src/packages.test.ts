/**
 * What an npm user of `@foliosim/*` expects of every published package (any new package
 * included): LICENSE and README in the tarball, repository metadata, caret ranges for
 * internal dependencies, one version for all, the publint and arethetypeswrong checks,
 * and a tarball with dist and types but no benchmark, demo or test files.
 */

import { execFile } from "node:child_process";
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { publishedPackages, REPOSITORY, ROOT, workspacePackages, type PackageJson } from "./workspace.js";

const run = promisify(execFile);
const published = publishedPackages();
const workspaceNames = new Set(workspacePackages().map((p) => p.json.name));
const license = readFileSync(join(ROOT, "LICENSE"), "utf8");

/** Files that belong to the repository, never to a tarball. */
const UNPUBLISHED = [/(^|\/)bench(\.|\/|-)/, /(^|\/)demo\./, /starvation\.ts$/, /\.test\.tsx?$/, /__fixtures__|__snapshots__/, /(^|\/)testing\.ts$/, /test-support\.ts$/, /^dist-dev\//, /^node_modules\//];

/** Source files an export points at (the `@foliosim/source` condition): published on purpose. */
function exportedSources(json: PackageJson): Set<string> {
  const out = new Set<string>();
  const visit = (node: unknown): void => {
    if (typeof node === "string") out.add(node.replace(/^\.\//, ""));
    else if (node && typeof node === "object") Object.values(node).forEach(visit);
  };
  visit(json.exports);
  return out;
}

describe("every published package", () => {
  it("is found (the nine libraries and the app at least)", () => {
    const names = published.map((p) => p.json.name);
    expect(names).toEqual(expect.arrayContaining(["@foliosim/sim", "@foliosim/folio", "@foliosim/lru", "@foliosim/mm", "@foliosim/migrate", "@foliosim/gup", "@foliosim/hmm", "@foliosim/explore", "@foliosim/scenarios", "foliosim"]));
  });

  it.each(published.map((p) => [p.json.name, p] as const))("%s has the root LICENSE and a README pointing at the repository", (_, p) => {
    expect(existsSync(join(p.path, "LICENSE")), `${p.dir}/LICENSE`).toBe(true);
    expect(readFileSync(join(p.path, "LICENSE"), "utf8"), `${p.dir}/LICENSE differs from the root LICENSE`).toBe(license);
    expect(p.json.license).toBe("MIT");
    const readme = readFileSync(join(p.path, "README.md"), "utf8");
    expect(readme.startsWith(`# ${p.json.name}`), `${p.dir}/README.md starts with "# ${p.json.name}"`).toBe(true);
    expect(readme).toContain(`${REPOSITORY}`);
  });

  it.each(published.filter((p) => p.dir.startsWith("packages/")).map((p) => [p.json.name, p] as const))("%s's README has an example and its variation points", (_, p) => {
    const readme = readFileSync(join(p.path, "README.md"), "utf8");
    expect(readme, `${p.dir}/README.md: a fenced ts example`).toMatch(/^```ts\n/m);
    expect(readme, `${p.dir}/README.md: a "## Variation points" section`).toMatch(/^## Variation points$/m);
  });

  it.each(published.map((p) => [p.json.name, p] as const))("%s has repository, homepage, bugs and keywords", (_, p) => {
    expect(p.json.repository).toEqual({ type: "git", url: `git+${REPOSITORY}.git`, directory: p.dir });
    expect(p.json.homepage).toBe(`${REPOSITORY}/tree/main/${p.dir}#readme`);
    expect(p.json.bugs).toEqual({ url: `${REPOSITORY}/issues` });
    expect(p.json.keywords).toContain("foliosim");
    expect(p.json.keywords!.length).toBeGreaterThanOrEqual(3);
  });

  it.each(published.map((p) => [p.json.name, p] as const))("%s depends on workspace packages through caret ranges and runs publint and arethetypeswrong", (_, p) => {
    for (const field of ["dependencies", "devDependencies", "peerDependencies", "optionalDependencies"] as const) {
      for (const [name, range] of Object.entries(p.json[field] ?? {})) {
        if (workspaceNames.has(name)) expect(`${field} ${name}: ${range}`).toBe(`${field} ${name}: workspace:^`);
      }
    }
    expect(p.json.scripts?.publint).toBe("publint");
    expect(p.json.scripts?.attw).toBe("attw --pack . --profile esm-only");
  });

  it("are dependencies of tools/release, so its README examples can import them", () => {
    const tools = workspacePackages().find((p) => p.dir === "tools/release")!;
    const missing = published.map((p) => p.json.name).filter((name) => tools.json.devDependencies?.[name] !== "workspace:^");
    expect(missing, "add them to tools/release/package.json devDependencies as workspace:^").toEqual([]);
  });

  it("share one version (the changesets fixed group)", () => {
    const config = JSON.parse(readFileSync(join(ROOT, ".changeset/config.json"), "utf8")) as { fixed: string[][] };
    expect(config.fixed).toEqual([["@foliosim/*", "foliosim"]]);
    const versions = new Set(published.map((p) => p.json.version));
    expect([...versions], published.map((p) => `${p.json.name}@${p.json.version}`).join(", ")).toHaveLength(1);
    for (const p of published) expect(p.json.name === "foliosim" || p.json.name.startsWith("@foliosim/"), p.json.name).toBe(true);
  });
});

describe("npm pack", () => {
  it("puts LICENSE, README, dist and types in every tarball, and no benchmark, demo or test file", async () => {
    const { stdout } = await run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts", ...published.map((p) => `./${p.dir}`)], {
      cwd: ROOT,
      env: { ...process.env, npm_config_update_notifier: "false", npm_config_fund: "false" },
      maxBuffer: 64 << 20,
    });
    const packs = JSON.parse(stdout) as { name: string; files: { path: string }[] }[];
    expect(packs.map((t) => t.name)).toEqual(published.map((p) => p.json.name));
    for (const [i, tarball] of packs.entries()) {
      const files = tarball.files.map((f) => f.path);
      const p = published[i];
      for (const required of ["LICENSE", "README.md", "package.json", "dist/index.js", "dist/index.d.ts"]) expect(files, `${p.json.name} tarball: ${required}`).toContain(required);
      const exported = exportedSources(p.json);
      const unwanted = files.filter((f) => !exported.has(f) && UNPUBLISHED.some((re) => re.test(f)));
      expect(unwanted, `${p.json.name} tarball holds repository-only files`).toEqual([]);
    }
  });
});
