/** Placeholder until the DPOR split lands. */
export type DporJobOutput = never;
export async function runDporJob(_loaderModule: string, _data: unknown): Promise<DporJobOutput> {
  throw new Error("DPOR sub-jobs are not supported by this worker yet");
}
