// The variant API: points, resolution, registration, and the guard around user hooks.
import { afterEach, describe, expect, it } from "vitest";
import { atomic, atomicAdd, Machine, ModelError, op, SimConfigError, firstChooser, type TaskGen } from "./index.js";
import {
  clearRegisteredVariants,
  defineVariant,
  defineVariationPoint,
  kernelDefaults,
  pointValues,
  registerVariant,
  resolveHook,
  resolveVariant,
  variantFromFile,
  VariantError,
} from "./variant.js";

interface TestHook {
  step(n: number): TaskGen<number>;
  mode?: "a" | "b";
}

const counter = atomic("counter", 0);
const plain = defineVariant<TestHook>({ id: "plain", point: "test-point", source: "test", hook: { *step(n) { return yield* atomicAdd(counter, n); }, mode: "a" } });
const other = defineVariant<TestHook>({ id: "other", point: "test-point", source: "test", hook: { *step() { return 0; }, mode: "b" } });
const POINT = defineVariationPoint({ name: "test-point" as never, owner: "test", models: "nothing", shape: { step: "function", mode: ["a", "b"] } as never, builtins: [plain, other] as never, defaultId: "plain" }) as unknown as Parameters<typeof resolveHook<TestHook>>[1];

function runWith(value: unknown): { m: Machine; got: number[] } {
  const m = new Machine({ cpus: 1, kernel: value === undefined ? {} : { "test-point": value as string } });
  const got: number[] = [];
  m.spawn({ name: "t", cpu: 0, *body() { got.push(yield* resolveHook(m, POINT).step(2)); } });
  return { m, got };
}

afterEach(() => clearRegisteredVariants());

describe("variation points", () => {
  it("an unset option runs the default, and kernelDefaults lists it", () => {
    const { m } = runWith(undefined);
    expect(resolveVariant(m, POINT).id).toBe("plain");
    expect(kernelDefaults()["test-point"]).toBe("plain");
  });

  it("an unknown value is a SimConfigError naming the valid values", () => {
    const m = new Machine({ cpus: 1, kernel: { "test-point": "nope" } });
    expect(() => resolveVariant(m, POINT)).toThrow(SimConfigError);
    expect(() => resolveVariant(m, POINT)).toThrow('kernel.test-point: expected one of plain | other, found "nope"');
  });

  it("a registered user variant becomes a value, by id", () => {
    const mine = variantFromFile(defineVariant<TestHook>({ id: "mine", point: "test-point", source: "me", hook: { *step() { return 7; }, mode: "a" } }), "/tmp/mine.ts");
    registerVariant(mine);
    expect(pointValues("test-point")).toEqual(["plain", "other", "mine"]);
    const { m, got } = runWith("mine");
    expect(m.run(firstChooser).status).toBe("done");
    expect(got).toEqual([7]);
  });

  it("refuses a malformed variant with the field and what was expected", () => {
    expect(() => defineVariant({ id: "Bad Id", point: "test-point", source: "x", hook: {} })).toThrow(/"id": expected lowercase letters/);
    expect(() => defineVariant({ id: "ok", point: "test-point", source: "", hook: {} })).toThrow(/"source": expected the patch or thread/);
    const wrong = variantFromFile(defineVariant({ id: "wrong", point: "test-point", source: "x", hook: { step: 1, mode: "a" } }), "/tmp/wrong.ts");
    expect(() => registerVariant(wrong)).toThrow('variant module /tmp/wrong.ts ("wrong"): "hook": "step": expected function, found 1');
    const typo = variantFromFile(defineVariant({ id: "typo", point: "test-point", source: "x", hook: { step() {}, mode: "a", mdoe: "a" } }), "/tmp/typo.ts");
    expect(() => registerVariant(typo)).toThrow(/unknown field "mdoe"/);
    const nowhere = variantFromFile(defineVariant({ id: "x", point: "no-such-point", source: "x", hook: {} }), "/tmp/x.ts");
    expect(() => registerVariant(nowhere)).toThrow(/"point": unknown variation point "no-such-point"; valid points: .*test-point/);
    expect(() => registerVariant(variantFromFile(defineVariant({ id: "plain", point: "test-point", source: "x", hook: { step() {}, mode: "a" } }), "/tmp/p.ts"))).toThrow(/is a built-in test-point variant/);
  });

  it("a user hook that throws ends the run with a VariantError naming the file, not a model stack trace", () => {
    const boom = variantFromFile(defineVariant<TestHook>({ id: "boom", point: "test-point", source: "x", hook: { *step() { yield* op({ kind: "x", cost: 0, run: () => 0 }); throw new TypeError("oops"); }, mode: "a" } }), "/tmp/boom.ts");
    expect(() => runWith(boom).m.run(firstChooser)).toThrow(new VariantError("/tmp/boom.ts", "hook step() threw TypeError: oops", "boom"));
  });

  it("a user hook that yields something that is not an op is a VariantError", () => {
    const bad = variantFromFile(defineVariant({ id: "bad", point: "test-point", source: "x", hook: { *step() { yield 42; return 0; }, mode: "a" } }), "/tmp/bad.ts");
    expect(() => runWith(bad).m.run(firstChooser)).toThrow(/variant module \/tmp\/bad.ts \("bad"\): hook step\(\) yielded 42, not a machine operation/);
  });

  it("a ModelError reached through a user hook's ops stays a model finding", () => {
    const bug = variantFromFile(defineVariant<TestHook>({ id: "bug", point: "test-point", source: "x", hook: { *step() { yield* op({ kind: "x", cost: 0, run: () => { throw new ModelError("folio_put", "folio", "put of a free folio"); } }); return 0; }, mode: "a" } }), "/tmp/bug.ts");
    const { m } = runWith(bug);
    expect(m.run(firstChooser).status).toBe("invariant");
  });
});
