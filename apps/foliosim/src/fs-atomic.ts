import { renameSync, writeFileSync } from "node:fs";

/** Write a file so a reader never sees half of it: a temporary file, then a rename. */
export function writeFileAtomic(path: string, text: string): void {
  const temp = `${path}.tmp-${process.pid}`;
  writeFileSync(temp, text);
  renameSync(temp, path);
}
