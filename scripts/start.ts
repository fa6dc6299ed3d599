/**
 * Runs SkyGit: `npm start`. Without GITHUB_TOKEN it starts the embedded local hub (users
 * alice, bob and carol, repository demo/chat, data in .data/hub) and serves the web client
 * on 127.0.0.1; with GITHUB_TOKEN the client talks to api.github.com.
 * Ports: SKYGIT_PORT (default 5173) and SKYGIT_HUB_PORT (default 8787); a taken port is replaced by a free one.
 */
import { startApp } from "../src/main/serve.js"

const token = process.env.GITHUB_TOKEN?.trim()
const app = await startApp({
  githubToken: token === undefined || token === "" ? undefined : token,
  hubDataDir: ".data/hub",
  users: ["alice", "bob", "carol"],
  repository: "demo/chat",
  host: "127.0.0.1",
  hubPort: Number(process.env.SKYGIT_HUB_PORT ?? 8787),
  webPort: Number(process.env.SKYGIT_PORT ?? 5173),
  outDir: "dist/web"
})

console.log(`\nSkyGit is running: open ${app.webUrl}`)
if (app.hubUrl === undefined) {
  console.log("Using api.github.com: paste your token in the page (the server never holds or serves it).")
} else {
  console.log(`Local GitHub-compatible hub: ${app.hubUrl} (repository demo/chat, data in .data/hub)`)
  console.log("Open the page in two tabs and sign in as different demo users to chat:")
  for (const [user, t] of Object.entries(app.tokens)) console.log(`  ${user.padEnd(6)} ${t}`)
}
console.log("Press Ctrl+C to stop.")

const stop = () => void app.close().then(() => process.exit(0))
process.on("SIGINT", stop)
process.on("SIGTERM", stop)
