/**
 * Text from a scenario file (ids, titles, messages, paths) is printed to a terminal:
 * its control characters are escaped so a file cannot move the cursor, clear the
 * screen or fake a line of output. Newlines and tabs of our own output are untouched;
 * escapeControl is applied to the untrusted parts only, and keeps `\n` only when asked.
 */

// C0 controls except \n and \t, DEL, and C1 controls (ESC-less CSI included).
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g;
const CONTROL_AND_NEWLINE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/g;

function escapeChar(c: string): string {
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
}

/** Escape control characters (keeping newlines and tabs unless `singleLine`). */
export function escapeControl(text: string, singleLine = false): string {
  return text.replace(singleLine ? CONTROL_AND_NEWLINE : CONTROL, escapeChar);
}

/** A shell word: as it is when safe, else in single quotes. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
