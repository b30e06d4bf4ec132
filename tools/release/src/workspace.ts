/**
 * The workspace as a publisher sees it: every package under the workspace globs
 * (pnpm-workspace.yaml), and which of them are published (not `private`).
 */

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../../..");

/** The canonical repository every package.json points at. */
export const REPOSITORY = "https://github.com/foliosim/foliosim";

export interface PackageJson {
  name: string;
  version: string;
  private?: boolean;
  license?: string;
  keywords?: string[];
  homepage?: string;
  bugs?: { url?: string } | string;
  repository?: { type?: string; url?: string; directory?: string } | string;
  files?: string[];
  exports?: unknown;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

export interface WorkspacePackage {
  /** Relative to the repository root: "packages/sim". */
  dir: string;
  path: string;
  json: PackageJson;
}

/** The `packages:` globs of pnpm-workspace.yaml (each of the form `dir/*`). */
function workspaceGlobs(): string[] {
  const text = readFileSync(join(ROOT, "pnpm-workspace.yaml"), "utf8");
  const block = /^packages:\n((?:[ \t]+-[ \t]+.+\n?)+)/m.exec(text);
  if (!block) throw new Error("pnpm-workspace.yaml: no packages list");
  return block[1]
    .split("\n")
    .map((line) => line.replace(/^\s*-\s*/, "").replace(/["']/g, "").trim())
    .filter(Boolean);
}

export function workspacePackages(): WorkspacePackage[] {
  const out: WorkspacePackage[] = [];
  for (const glob of workspaceGlobs()) {
    if (!glob.endsWith("/*")) throw new Error(`pnpm-workspace.yaml: unsupported glob ${glob} (expected dir/*)`);
    const parent = glob.slice(0, -2);
    for (const name of readdirSync(join(ROOT, parent)).sort()) {
      const dir = `${parent}/${name}`;
      const manifest = join(ROOT, dir, "package.json");
      if (!existsSync(manifest)) continue;
      out.push({ dir, path: join(ROOT, dir), json: JSON.parse(readFileSync(manifest, "utf8")) as PackageJson });
    }
  }
  return out;
}

/** The packages `changeset publish` publishes. */
export function publishedPackages(): WorkspacePackage[] {
  return workspacePackages().filter((p) => !p.json.private);
}
