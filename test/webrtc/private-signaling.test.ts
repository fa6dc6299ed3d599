/**
 * Issue 10 §3, end to end: two headless Node peers in separate processes meet through the
 * local hub (file form, then Discussion form) and open a channel; afterwards neither the
 * git history of the repository (every version of every file, every commit) nor the
 * Discussion (every comment body and every earlier version in its edit history) shows an
 * SDP, an ICE candidate or an IP address.
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { createHub, serveHub } from "../../src/hub/index.js"
import { killAll, PeerProcess, REPO, type TestHub } from "../node/peer-process.js"

const TEST_TIMEOUT_MS = 180_000
/** A loaded 2-CPU machine may take a while to boot two peer processes. */
const OPEN_WAIT_MS = 75_000

/** What must never reach the repository: SDP lines, candidates, IPv4 and IPv6 addresses. */
const LEAKS: ReadonlyArray<[string, RegExp]> = [
  ["an SDP", /v=0\\r\\n|a=fingerprint|a=ice-ufrag|a=ice-pwd|m=application/],
  ["a candidate", /candidate:|typ (host|srflx|relay)/],
  ["an IPv4 address", /\b(?:\d{1,3}\.){3}\d{1,3}\b/],
  ["an IPv6 address", /\b[0-9a-f]{1,4}(?::[0-9a-f]{1,4}){4,7}\b|::1\b/i],
  ["an mDNS host name", /[0-9a-f-]{36}\.local/i]
]

/** Published on purpose in every entry (pinning), and hex pairs with colons look like IPv6. */
const FINGERPRINT = /sha-256 (?:[0-9A-F]{2}:){31}[0-9A-F]{2}/g

const leaksIn = (all: string): ReadonlyArray<string> =>
  LEAKS.flatMap(([what, re]) => {
    const text = all.replace(FINGERPRINT, "sha-256 <fingerprint>")
    const m = text.match(re)
    return m === null ? [] : [`${what}: ...${text.slice(Math.max(0, (m.index ?? 0) - 60), (m.index ?? 0) + 60)}...`]
  })

let running: Array<PeerProcess> = []
const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  killAll(running)
  running = []
  for (const c of cleanups.splice(0)) await c()
})

const startPair = async (presence: "file" | "discussion") => {
  const dataDir = mkdtempSync(join(tmpdir(), `skygit-private-${process.pid}-`))
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }))
  const hub = await createHub({ users: ["alice", "bob"], repos: [REPO], dataDir })
  const server = await serveHub(hub, { port: 0 })
  cleanups.push(() => server.close())
  const testHub: TestHub = { hub, url: server.url, close: server.close }
  const alice = PeerProcess.spawn(testHub, "alice", "a1", ["--presence", presence])
  const bob = PeerProcess.spawn(testHub, "bob", "b1", ["--presence", presence])
  running.push(alice, bob)
  await Promise.all([alice.waitOpen(["bob/b1"], OPEN_WAIT_MS), bob.waitOpen(["alice/a1"], OPEN_WAIT_MS)])
  await Promise.all([alice.quit(), bob.quit()])
  return { hub, dataDir }
}

describe("signaling that reveals nothing", () => {
  it(
    "file form: no version of any file on any branch holds an SDP, a candidate or an address",
    async () => {
      const { hub, dataDir } = await startPair("file")
      // Presence was written (so the test looks at something), and sealed.
      const log = await hub.git.log(REPO, "skygit")
      expect(log.some((c) => c.paths.includes(".messages/presence.json"))).toBe(true)
      const gitDir = join(dataDir, `${REPO}.git`)
      const history = execFileSync("git", ["--git-dir", gitDir, "log", "--all", "-p", "--full-history", "--format=%H %s"], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 })
      expect(history).toContain("encryption_key")
      expect(history).toContain('"sealed"')
      expect(leaksIn(history)).toEqual([])
    },
    TEST_TIMEOUT_MS
  )

  it(
    "Discussion form: no comment body and no earlier version of one holds an SDP, a candidate or an address",
    async () => {
      const { hub } = await startPair("discussion")
      const query = `query { repository(owner: "demo", name: "chat") { discussions(first: 10) { nodes { body comments(first: 100) { nodes { body userContentEdits(first: 100) { nodes { diff } } } } } } } }`
      const response = await hub.handle(
        new Request("http://hub.local/graphql", {
          method: "POST",
          headers: { authorization: `bearer ${hub.tokenOf("alice")}`, "content-type": "application/json" },
          body: JSON.stringify({ query })
        })
      )
      const text = await response.text()
      expect(response.status).toBe(200)
      expect(text).not.toContain('"errors"')
      // Both users wrote their comment and edited it (entries, then sealed signaling).
      expect(text).toContain("encryption_key")
      expect(text).toContain('\\"sealed\\"')
      expect(text).toContain('"diff"')
      expect(leaksIn(text)).toEqual([])
    },
    TEST_TIMEOUT_MS
  )
})
