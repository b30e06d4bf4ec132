/**
 * `changeset version`, dry run: in a temporary copy of the manifests and pending
 * changesets (never on the checkout), every published package gets the same new
 * version (the fixed group) and a CHANGELOG.md with the pending changesets, and
 * internal dependencies stay `workspace:^`.
 */

import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, expect, it } from "vitest";
import { publishedPackages, ROOT, workspacePackages, type PackageJson } from "./workspace.js";

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "foliosim-changeset-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function copyManifests(): void {
  for (const file of ["package.json", "pnpm-workspace.yaml"]) cpSync(join(ROOT, file), join(dir, file));
  cpSync(join(ROOT, ".changeset"), join(dir, ".changeset"), { recursive: true });
  for (const p of workspacePackages()) {
    mkdirSync(join(dir, p.dir), { recursive: true });
    cpSync(join(p.path, "package.json"), join(dir, p.dir, "package.json"));
  }
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
}

it("versions every published package together and writes each one's CHANGELOG", async () => {
  copyManifests();
  const git = (...args: string[]) => run("git", ["-c", "user.name=release", "-c", "user.email=release@localhost", ...args], { cwd: dir });
  await git("init", "-q", "-b", "main");
  writeFileSync(join(dir, ".gitignore"), "node_modules\n");
  await git("add", "-A");
  await git("commit", "-qm", "manifests");
  await run(process.execPath, [join(ROOT, "node_modules/@changesets/cli/bin.js"), "version"], { cwd: dir, timeout: 90_000 });

  const before = publishedPackages();
  const after = before.map((p) => JSON.parse(readFileSync(join(dir, p.dir, "package.json"), "utf8")) as PackageJson);
  const versions = new Set(after.map((json) => json.version));
  expect([...versions], after.map((json) => `${json.name}@${json.version}`).join(", ")).toHaveLength(1);
  const [version] = versions;
  expect(version).not.toBe(before[0].json.version);
  for (const [i, p] of before.entries()) {
    const changelog = join(dir, p.dir, "CHANGELOG.md");
    expect(existsSync(changelog), `${p.dir}/CHANGELOG.md`).toBe(true);
    expect(readFileSync(changelog, "utf8")).toContain(`# ${p.json.name}\n\n## ${version}\n`);
    for (const [name, range] of Object.entries(after[i].dependencies ?? {})) if (name.startsWith("@foliosim/")) expect(range).toBe("workspace:^");
  }
  const tools = JSON.parse(readFileSync(join(dir, "tools/release/package.json"), "utf8")) as PackageJson;
  expect(tools.version, "private packages are not versioned").toBe("0.0.0");
  expect(existsSync(join(dirname(join(dir, "tools/release/package.json")), "CHANGELOG.md"))).toBe(false);
});
