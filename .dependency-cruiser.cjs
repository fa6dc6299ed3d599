/**
 * The house rules, checked by `npm test` (`npm run rules`): which layer may import which.
 * Paths are relative to the repository root; `effect` is allowed everywhere.
 */
const EFFECT = "^node_modules/effect/"

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "domain-is-pure",
      comment: "src/domain imports only effect (pure; time is a parameter).",
      severity: "error",
      from: { path: "^src/domain/" },
      to: { pathNot: [`^src/domain/`, EFFECT] }
    },
    {
      name: "ports-see-the-domain",
      comment: "src/ports imports only the domain (and effect).",
      severity: "error",
      from: { path: "^src/ports/" },
      to: { pathNot: ["^src/(domain|ports)/", EFFECT] }
    },
    {
      name: "app-sees-ports-and-domain",
      comment: "src/app imports ports and the domain, never an adapter or a platform library.",
      severity: "error",
      from: { path: "^src/app/" },
      to: { pathNot: ["^src/(app|ports|domain)/", EFFECT] }
    },
    {
      name: "adapters-bind-ports",
      comment: "src/adapters imports ports, the domain, other adapters and their platform libraries; never the app, the UI, the hub or a room.",
      severity: "error",
      from: { path: "^src/adapters/" },
      to: { path: "^src/(app|web|hub|sim|node|main)/" }
    },
    {
      name: "ui-renders-only",
      comment: "src/web imports the app's view types (type-only), the domain, solid-js and effect; never an adapter, a port, the hub or a room.",
      severity: "error",
      from: { path: "^src/web/" },
      to: { pathNot: ["^src/(web|domain)/", EFFECT, "^node_modules/solid-js/"], dependencyTypesNot: ["type-only"] }
    },
    {
      name: "ui-sees-app-types-only",
      comment: "Type-only imports of src/web reach the app and the domain, nothing else.",
      severity: "error",
      from: { path: "^src/web/" },
      to: { pathNot: ["^src/(web|domain|app)/", EFFECT, "^node_modules/solid-js/"], dependencyTypes: ["type-only"] }
    },
    {
      name: "hub-sees-the-domain",
      comment: "src/hub (GitHub's stand-in) imports only the domain, node's built-ins and effect: never the app or an adapter.",
      severity: "error",
      from: { path: "^src/hub/" },
      to: { path: "^src/(app|ports|adapters|web|sim|node|main)/" }
    },
    {
      name: "only-rooms-wire",
      comment: "Only src/main chooses layers: nothing else outside tests and scripts imports a GitHub, WebRTC, storage or media adapter (benchmarks in src/node/bench-* measure the transport's own constants).",
      severity: "error",
      from: { path: "^src/", pathNot: ["^src/main/", "^src/adapters/", "^src/node/bench-"] },
      to: { path: "^src/adapters/(github|webrtc|storage|media)/" }
    },
    {
      name: "memory-world-only-in-the-simulator",
      comment: "The in-memory GitHub and network are the simulator's world: only src/sim and the rooms use them.",
      severity: "error",
      from: { path: "^src/", pathNot: ["^src/main/", "^src/adapters/", "^src/sim/"] },
      to: { path: "^src/adapters/memory/" }
    },
    {
      name: "rooms-are-entry-points",
      comment: "Nothing in src imports a room, except the simulator's harness, which starts peers through the sim room.",
      severity: "error",
      from: { path: "^src/", pathNot: ["^src/main/", "^src/sim/harness\\.ts$", "^src/sim/hub-backend\\.ts$"] },
      to: { path: "^src/main/" }
    }
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default", "types"], extensions: [".ts", ".tsx", ".js", ".mjs", ".cjs", ".d.ts"] },
    exclude: { path: "^(dist|node_modules)/" }
  }
}
