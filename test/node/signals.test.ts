/**
 * A headless peer told to stop by SIGINT (Ctrl-C) or SIGTERM (a service manager) leaves as
 * `/quit` does: it commits what it holds if it leads, says goodbye, and exits 0. Real
 * child processes over the local hub on loopback.
 */
import { describe, expect, it } from "vitest"
import { PRESENCE_PATH } from "../../src/domain/commit-layout.js"
import { PeerProcess, REPO, startHub, stopAfterEach, WAIT_MS, type TestHub } from "./peer-process.js"

const BRANCH = "skygit"
const TEST_TIMEOUT_MS = 60_000

const { running, hubs } = stopAfterEach()

/** Whether a message file on the branch holds `text`. */
const committed = async (hub: TestHub, text: string): Promise<boolean> => {
  for (const c of await hub.hub.git.log(REPO, BRANCH)) {
    for (const path of c.paths) if (path !== PRESENCE_PATH && ((await hub.hub.git.readFile(REPO, BRANCH, path)) ?? "").includes(text)) return true
  }
  return false
}

/** Waits for the process to exit; its exit code. */
const exitOf = (p: PeerProcess): Promise<number | null> =>
  p.waitFor("exit", () => (p.exited !== undefined ? true : undefined), WAIT_MS).then(() => p.exited ?? null)

describe("headless peer and signals", () => {
  it(
    "SIGINT (Ctrl-C) to `tsx scripts/peer.ts`, as `npm run peer` runs it: the lone leader commits and exits 0",
    async () => {
      const hub = await startHub()
      hubs.push(hub)
      const alice = PeerProcess.spawnCli(hub, "alice", "a1")
      running.push(alice)
      await alice.waitFor("leadership", (e) => (e.event === "view" && e.isLeader === true ? true : undefined))
      const text = "said just before Ctrl-C"
      alice.say(text)
      await alice.waitMessage(text)
      // The timed commit is 5 s after a message: only the leaving leader's flush can have committed it.
      expect(await committed(hub, text)).toBe(false)
      alice.child.kill("SIGINT")
      expect(await exitOf(alice)).toBe(0)
      expect(await committed(hub, text)).toBe(true)
    },
    TEST_TIMEOUT_MS
  )

  it(
    "SIGTERM: the leader commits, leaves the mesh (its neighbor drops the link) and exits 0",
    async () => {
      const hub = await startHub()
      hubs.push(hub)
      const alice = PeerProcess.spawn(hub, "alice", "a1")
      const bob = PeerProcess.spawn(hub, "bob", "b1")
      running.push(alice, bob)
      await Promise.all([alice.waitOpen(["bob/b1"]), bob.waitOpen(["alice/a1"])])
      await alice.waitFor("leadership", (e) => (e.event === "view" && e.isLeader === true ? true : undefined))
      const text = "said just before SIGTERM"
      alice.say(text)
      await bob.waitMessage(text)
      expect(await committed(hub, text)).toBe(false)
      alice.child.kill("SIGTERM")
      expect(await exitOf(alice)).toBe(0)
      expect(await committed(hub, text)).toBe(true)
      await bob.waitFor("alice gone", (e) => (e.event === "view" && !((e.links as ReadonlyArray<{ peer: string }>) ?? []).some((l) => l.peer === "alice/a1") ? true : undefined))
    },
    TEST_TIMEOUT_MS
  )
})
