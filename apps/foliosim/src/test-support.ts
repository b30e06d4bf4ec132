// Shared by the app's tests: the command line run in this process, its output captured.
import { main, type Io } from "./cli.js";

/** Run `foliosim argv…` in-process (CI=1, no TTY) and return its exit code and output. */
export async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const io: Io = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: { CI: "1" }, stdinIsTTY: false, stdoutIsTTY: false, stderrIsTTY: false };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}
