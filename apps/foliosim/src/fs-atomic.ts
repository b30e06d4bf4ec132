/**
 * `--out FILE`: written so a reader never sees half of it, and only ever as a regular
 * file. The target must be a regular file or not exist yet, in a directory that exists
 * (devices, FIFOs, directories and sockets are refused: `--out /dev/null` must never
 * replace the device). The temporary file gets a random name in the same directory
 * and is created exclusively (O_EXCL: a symlink planted under that name is never
 * followed), then renamed into place.
 */

import { randomBytes } from "node:crypto";
import { closeSync, constants, lstatSync, openSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { UsageError } from "./errors.js";

/** Why `path` cannot be an output file, or null when it can. */
export function outputProblem(path: string): string | null {
  if (path === "") return "--out needs a file name";
  const dir = dirname(path);
  let dirStat;
  try {
    dirStat = statSync(dir);
  } catch {
    return `--out ${path}: the directory ${dir} does not exist`;
  }
  if (!dirStat.isDirectory()) return `--out ${path}: ${dir} is not a directory`;
  let stat;
  try {
    stat = lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    return `--out ${path}: cannot inspect the file (${(error as NodeJS.ErrnoException).code})`;
  }
  if (stat.isSymbolicLink()) {
    try {
      stat = statSync(path);
    } catch {
      return `--out ${path}: a dangling symbolic link`;
    }
  }
  if (stat.isDirectory()) return `--out ${path}: is a directory; give a file name`;
  if (!stat.isFile()) return `--out ${path}: not a regular file (a device, FIFO or socket); --out writes regular files only`;
  return null;
}

/** Check an --out path before any work is done (exit 2 with a clear message). */
export function checkOutput(path: string | undefined): void {
  if (path === undefined) return;
  const problem = outputProblem(path);
  if (problem) throw new UsageError(problem);
}

/** Write a regular file atomically: an exclusive temporary file beside it, then a rename. */
export function writeFileAtomic(path: string, text: string): void {
  checkOutput(path);
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  let fd: number;
  try {
    fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o644);
  } catch (error) {
    throw new UsageError(`--out ${path}: cannot create a file in ${dirname(path)} (${(error as NodeJS.ErrnoException).code})`);
  }
  try {
    const buffer = Buffer.from(text, "utf8");
    let written = 0;
    while (written < buffer.length) written += writeSync(fd, buffer, written, buffer.length - written);
  } catch (error) {
    closeSync(fd);
    unlinkSync(temp);
    throw error;
  }
  closeSync(fd);
  renameSync(temp, path);
}
