import { render } from "ink";
import { EXIT, type ExitCode } from "../exit-codes.js";
import { App } from "./App.js";
import { createBackend } from "./backend.js";
import { AppStore } from "./store.js";

/** Mount the TUI (with user scenario files beside the catalog); resolves with the exit code when the user quits. */
export async function startTui(files: string[] = []): Promise<ExitCode> {
  const store = new AppStore(createBackend({ files }));
  const instance = render(<App store={store} />, { exitOnCtrlC: false, patchConsole: false });
  const onSigint = (): void => {
    store.stopRunning();
    instance.unmount();
  };
  process.on("SIGINT", onSigint);
  try {
    await instance.waitUntilExit();
  } finally {
    process.off("SIGINT", onSigint);
    store.stopRunning();
  }
  return EXIT.ok;
}
