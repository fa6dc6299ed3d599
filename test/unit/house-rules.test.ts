/**
 * The house rules (`.dependency-cruiser.cjs`, run by `npm test` as `npm run rules`) catch
 * what they are meant to: a fixture tree breaks each rule once, and a room that wires
 * adapters to the app breaks none. The real tree is checked by `npm run rules` itself.
 */
import { createRequire } from "node:module"
import { fileURLToPath } from "node:url"
import { cruise, type ICruiseResult, type IConfiguration } from "dependency-cruiser"
import { expect, it } from "vitest"

const config = createRequire(import.meta.url)("../../.dependency-cruiser.cjs") as IConfiguration
const FIXTURE = fileURLToPath(new URL("../fixtures/house-rules", import.meta.url))

it("every house rule catches the import it forbids, and a room breaks none", async () => {
  const reported = await cruise(["src"], {
    baseDir: FIXTURE,
    ruleSet: { forbidden: config.forbidden ?? [] },
    tsPreCompilationDeps: true,
    validate: true
  })
  const violations = (reported.output as ICruiseResult).summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).sort()
  expect(violations).toEqual([
    "adapters-bind-ports: src/adapters/github/client.ts -> src/app/service.ts",
    "app-sees-ports-and-domain: src/app/service.ts -> src/adapters/github/client.ts",
    "domain-is-pure: src/domain/impure.ts -> src/app/service.ts",
    "only-rooms-wire: src/app/service.ts -> src/adapters/github/client.ts",
    "only-rooms-wire: src/web/view.tsx -> src/adapters/github/client.ts",
    "ui-renders-only: src/web/view.tsx -> src/adapters/github/client.ts",
    "ui-sees-app-types-only: src/web/view.tsx -> src/ports/port.ts"
  ])
})
