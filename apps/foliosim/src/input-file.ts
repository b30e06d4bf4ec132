/**
 * Reading a file the user named: a regular file of bounded size, checked before a byte
 * is read (`/dev/zero` would grow without end, a FIFO would block forever).
 */

import { closeSync, constants, fstatSync, openSync, readSync, statSync } from "node:fs";
import { LIMITS } from "./limits.js";

/** A problem with an input file, in words (the caller adds the file and exit code). */
export class InputFileError extends Error {
  override readonly name = "InputFileError";
}

/** Read `file` as UTF-8 if it is a regular file of at most LIMITS.fileBytes. */
export function readInputFile(file: string, what = "file"): string {
  let stat;
  try {
    stat = statSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputFileError(code === "ENOENT" ? `${file}: no such file` : `${file}: cannot read the ${what} (${code ?? String(error)})`);
  }
  if (stat.isDirectory()) throw new InputFileError(`${file}: is a directory, expected a ${what}`);
  if (!stat.isFile()) throw new InputFileError(`${file}: not a regular file (a device, FIFO or socket), expected a ${what}`);
  if (stat.size > LIMITS.fileBytes) throw new InputFileError(`${file}: ${stat.size} bytes, more than the ${LIMITS.fileBytes}-byte limit for a ${what}`);
  // Opened without blocking, and checked again on the descriptor (the path may have changed).
  const fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const again = fstatSync(fd);
    if (!again.isFile()) throw new InputFileError(`${file}: not a regular file, expected a ${what}`);
    const buffer = Buffer.alloc(LIMITS.fileBytes + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > LIMITS.fileBytes) throw new InputFileError(`${file}: more than the ${LIMITS.fileBytes}-byte limit for a ${what}`);
    }
    return buffer.subarray(0, length).toString("utf8");
  } finally {
    closeSync(fd);
  }
}
