/**
 * Issue 13, real processes: the hub plus two headless Node peers on @roamhq/wrtc, and an
 * attacker with write access who fills the presence file with 1,000 made-up, fresh entries
 * (half sorting before the real peers, half after) and keeps them fresh. Chat goes on, the
 * channel stays open, and each peer's open files and memory stay within the bounds.
 * (CPU is measured by `npm run bench:hostile`, not asserted here.)
 */
import { readdirSync, readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { PRESENCE_PATH } from "../../src/domain/commit-layout.js"
import { PeerProcess, REPO, startHub, stopAfterEach, withFakes } from "./peer-process.js"

const TEST_TIMEOUT_MS = 400_000
/** Process start under a loaded machine (seven test suites on two cores) can take a while. */
const START_WAIT_MS = 180_000
/** The bounds: open files within 100 of idle, memory at most 50 MB more. */
const MAX_EXTRA_FILES = 100
const MAX_EXTRA_RSS_MB = 50

const { running, hubs } = stopAfterEach()

/** Open files and resident memory (MB) of a process. */
const usage = (pid: number) => ({
  files: readdirSync(`/proc/${pid}/fd`).length,
  rssMB: Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe("a hostile collaborator's made-up presence entries, against real peers", () => {
  it(
    "1,000 fresh made-up entries: chat goes on, the channel stays open, open files and memory stay within bounds",
    async () => {
      const hub = await startHub()
      hubs.push(hub)
      const alice = PeerProcess.spawn(hub, "alice", "a1")
      const bob = PeerProcess.spawn(hub, "bob", "b1")
      running.push(alice, bob)
      await Promise.all([alice.waitOpen(["bob/b1"], START_WAIT_MS), bob.waitOpen(["alice/a1"], START_WAIT_MS)])
      alice.say("before")
      await bob.waitMessage("before")
      await sleep(3_000)
      const idle = [usage(alice.pid), usage(bob.pid)]

      // The attacker writes the file three times, ten seconds apart, keeping every fake fresh.
      const peak = idle.map((u) => ({ ...u }))
      for (let round = 0; round < 3; round++) {
        const text = await hub.hub.git.readFile(REPO, "skygit", PRESENCE_PATH)
        await hub.hub.faults.corruptFile(REPO, "skygit", PRESENCE_PATH, withFakes(text, 1_000, Date.now()))
        for (let s = 0; s < 10; s++) {
          await sleep(1_000)
          ;[alice, bob].forEach((p, i) => {
            const u = usage(p.pid)
            peak[i] = { files: Math.max(peak[i]!.files, u.files), rssMB: Math.max(peak[i]!.rssMB, u.rssMB) }
          })
        }
        alice.say(`during ${round}`)
        await bob.waitMessage(`during ${round}`)
      }
      bob.say("after")
      await alice.waitMessage("after")
      // Their channel never dropped: each still has it open.
      await Promise.all([alice.waitOpen(["bob/b1"]), bob.waitOpen(["alice/a1"])])
      for (let i = 0; i < 2; i++) {
        expect(peak[i]!.files - idle[i]!.files).toBeLessThanOrEqual(MAX_EXTRA_FILES)
        expect(peak[i]!.rssMB - idle[i]!.rssMB).toBeLessThanOrEqual(MAX_EXTRA_RSS_MB)
      }
      console.log(JSON.stringify({ idle, peak }))
      expect(alice.exited).toBeUndefined()
      expect(bob.exited).toBeUndefined()
    },
    TEST_TIMEOUT_MS
  )
})
