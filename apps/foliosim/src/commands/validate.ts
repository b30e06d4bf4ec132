import { loadScenarioFile, ScenarioFileError, type FileIssue } from "../scenario-files.js";
import { SCHEMA_VERSION } from "../report.js";

export interface ValidateReport {
  schemaVersion: typeof SCHEMA_VERSION;
  files: { file: string; valid: boolean; id: string | null; kernels: string[]; issues: FileIssue[] }[];
}

/** `foliosim validate FILE…`: check user scenario files without running them. */
export function validateCommand(files: string[]): ValidateReport {
  return {
    schemaVersion: SCHEMA_VERSION,
    files: files.map((file) => {
      try {
        const loaded = loadScenarioFile(file);
        return { file, valid: true, id: loaded.scenario.id, kernels: loaded.kernels, issues: [] };
      } catch (error) {
        if (error instanceof ScenarioFileError) return { file, valid: false, id: null, kernels: [], issues: error.issues };
        throw error;
      }
    }),
  };
}
