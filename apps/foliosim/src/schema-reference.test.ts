import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { callNames, renderSchemaReference } from "@foliosim/scenarios";
import { listCommand } from "./commands/list.js";

const README = fileURLToPath(new URL("../README.md", import.meta.url));
const START = "<!-- schema-reference:start -->\n";
const END = "<!-- schema-reference:end -->";

describe("the schema reference in README.md", () => {
  it("is the one the schema generates (UPDATE_SCHEMA_REFERENCE=1 rewrites it)", () => {
    const text = readFileSync(README, "utf8");
    const [before, rest] = text.split(START);
    const [current, after] = rest.split(END);
    const fresh = renderSchemaReference() + "\n";
    if (process.env.UPDATE_SCHEMA_REFERENCE === "1") writeFileSync(README, before + START + fresh + END + after);
    else expect(current, "README.md's schema reference is stale: run pnpm -F foliosim schema-reference").toBe(fresh);
  });

  it("lists every call, and list --calls --json gives the same calls with their arguments", () => {
    const text = readFileSync(README, "utf8");
    for (const name of callNames()) expect(text).toContain(`#### \`${name}\``);
    const calls = listCommand({ calls: true }).calls!;
    expect(calls.map((c) => c.name)).toEqual(callNames());
    const pin = calls.find((c) => c.name === "pin_user_pages")!;
    expect(pin.args.map((a) => a.name)).toEqual(["addr", "page", "pages", "hold_ns", "keep", "flags"]);
    expect(pin.args[0]).toEqual({ name: "addr", type: "a whole number ≥ 0", required: true });
    expect(pin.fields).toEqual(["ret", "longtermPinnable", "pfns", "handle"]);
    expect(calls.find((c) => c.name === "metric")!.checkOnly).toBe(true);
  });
});
