/** The LocalStore port's contract under vitest, run against every store adapter (cases in `local-store.cases.ts`). */
import { describe, expect, it } from "@effect/vitest"
import { Effect, type Scope } from "effect"
import { localStoreCases, type LocalStoreFixture } from "./local-store.cases.js"

export type { LocalStoreFixture }

/** Runs the LocalStore contract against one adapter. */
export const localStoreContract = (name: string, makeFixture: Effect.Effect<LocalStoreFixture, unknown, Scope.Scope>) =>
  describe(`LocalStore contract: ${name}`, () => {
    for (const c of localStoreCases) it.scopedLive(c.name, () => Effect.flatMap(makeFixture, (f) => c.run(f, expect)))
  })
