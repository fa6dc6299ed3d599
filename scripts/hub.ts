/**
 * Serves the local GitHub-compatible hub:
 *   npm run hub -- --port 8787 --data ./.hub --users alice,bob,carol --repo demo/chat [--repo o/r] [--no-discussions]
 *                  [--fault NAME[:ARG]]... [--seed N]
 * Faults model real GitHub (src/hub/github-faults.ts): read-only:USER, protected:BRANCH, archived,
 * empty, stale-reads:MS, branch-moves, graphql-secondary[:N], announcements-only,
 * many-discussions:N, maintainer-edits:USER.
 * Prints the API URL and each user's token. With --data, tokens persist in DATA/tokens.json
 * and repositories are bare git repos under DATA (clone them with plain `git clone`).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { parseArgs } from "node:util"
import { createHub, parseFault, serveHub } from "../src/hub/index.js"

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "8787" },
    host: { type: "string", default: "127.0.0.1" },
    data: { type: "string" },
    users: { type: "string", default: "alice,bob,carol" },
    repo: { type: "string", multiple: true },
    "no-discussions": { type: "boolean", default: false },
    fault: { type: "string", multiple: true },
    seed: { type: "string", default: "1" }
  }
})

const faults = (() => {
  try {
    return (values.fault ?? []).map(parseFault)
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e))
    process.exit(2)
  }
})()
const seed = Number(values.seed)
if (!Number.isInteger(seed)) {
  console.error(`--seed needs an integer, got ${values.seed}`)
  process.exit(2)
}

const users = values.users.split(",").map((u) => u.trim()).filter((u) => u !== "")
const repos = (values.repo ?? ["demo/chat"]).map((name) => ({ name, discussions: !values["no-discussions"] }))
const dataDir = values.data === undefined ? undefined : resolve(values.data)
const tokenFile = dataDir === undefined ? undefined : join(dataDir, "tokens.json")
if (dataDir !== undefined) mkdirSync(dataDir, { recursive: true })
const saved: Record<string, string> = tokenFile !== undefined && existsSync(tokenFile) ? (JSON.parse(readFileSync(tokenFile, "utf8")) as Record<string, string>) : {}

const hub = await createHub({ users, repos, tokens: saved, faults, seed, ...(dataDir === undefined ? {} : { dataDir }) })
const server = await serveHub(hub, { port: Number(values.port), host: values.host })
const tokens = Object.fromEntries(users.map((u) => [u, hub.tokenOf(u)]))
if (tokenFile !== undefined) writeFileSync(tokenFile, JSON.stringify(tokens, null, 2))

console.log(`SkyGit hub listening on ${server.url}  (GraphQL: ${server.url}/graphql)`)
if (faults.length > 0) console.log(`faults: ${(values.fault ?? []).join(" ")}`)
for (const r of repos) console.log(`repository ${r.name}${dataDir === undefined ? " (in memory)" : `  git clone ${join(dataDir, `${r.name}.git`)}`}`)
for (const [u, t] of Object.entries(tokens)) console.log(`token ${u} ${t}`)

const stop = () => {
  void server.close().then(() => process.exit(0))
}
process.on("SIGINT", stop)
process.on("SIGTERM", stop)
