/**
 * Headless peers in separate processes over the local hub on loopback: they form a full
 * mesh and chat; a late joiner reaches the others through relay without extra GitHub
 * writes; a killed peer is dropped and the mesh goes on; and a message sent before the
 * leader dies is committed by the next leader.
 */
import { describe, expect, it } from "vitest"
import { PRESENCE_PATH } from "../../src/domain/commit-layout.js"
import { PeerProcess, REPO, startHub, stopAfterEach, type PeerEvent, type TestHub } from "./peer-process.js"

const BRANCH = "skygit"
const TEST_TIMEOUT_MS = 80_000

const { running, hubs } = stopAfterEach()

const setup = async () => {
  const hub = await startHub()
  hubs.push(hub)
  const spawn = (user: string, session: string) => {
    const p = PeerProcess.spawn(hub, user, session)
    running.push(p)
    return p
  }
  return { hub, spawn }
}

const linkState = (view: PeerEvent, peer: string): string | undefined =>
  (view.links as ReadonlyArray<{ peer: string; state: string }>).find((l) => l.peer === peer)?.state

const writesOf = (hub: TestHub, user: string): number => hub.hub.stats().users[user]?.writes ?? 0

/** The (from, to) pairs of the presence document's signaling slots. */
const slotPairs = async (hub: TestHub): Promise<ReadonlyArray<string>> => {
  const text = await hub.hub.git.readFile(REPO, BRANCH, PRESENCE_PATH)
  const doc = JSON.parse(text ?? "{}") as { signals?: ReadonlyArray<{ from: { username: string }; to: { username: string } }> }
  return (doc.signals ?? []).map((s) => `${s.from.username}->${s.to.username}`)
}

describe("headless Node peers in separate processes", () => {
  it(
    "two peers form a mesh and chat; a third joins through relay with no extra write by the peer it reaches that way",
    async () => {
      const { hub, spawn } = await setup()
      const alice = spawn("alice", "a1")
      const bob = spawn("bob", "b1")
      await Promise.all([alice.waitOpen(["bob/b1"]), bob.waitOpen(["alice/a1"])])
      alice.say("hello bob")
      bob.say("hello alice ✓ 🎉")
      await bob.waitMessage("hello bob")
      await alice.waitMessage("hello alice ✓ 🎉")

      const bobWritesBefore = writesOf(hub, "bob")
      const carol = spawn("carol", "c1")
      await Promise.all([
        alice.waitOpen(["bob/b1", "carol/c1"]),
        bob.waitOpen(["alice/a1", "carol/c1"]),
        carol.waitOpen(["alice/a1", "bob/b1"])
      ])
      // Bob and carol were introduced through alice: neither wrote a slot for the other.
      const pairs = await slotPairs(hub)
      expect(pairs).not.toContain("bob->carol")
      expect(pairs).not.toContain("carol->bob")
      expect(pairs).toContain("alice->carol")
      expect(writesOf(hub, "bob")).toBe(bobWritesBefore)
      // Carol's first entry and her answer to alice's offer, nothing more.
      expect(writesOf(hub, "carol")).toBeLessThanOrEqual(2)

      carol.say("carol here")
      await Promise.all([alice.waitMessage("carol here"), bob.waitMessage("carol here")])
      bob.say("welcome carol")
      await carol.waitMessage("welcome carol")
      expect(await carol.quit()).toBe(0)
    },
    TEST_TIMEOUT_MS
  )

  it(
    "a killed leader is dropped, chat goes on, and its successor commits what was sent before the crash",
    async () => {
      const { hub, spawn } = await setup()
      const alice = spawn("alice", "a1")
      const bob = spawn("bob", "b1")
      const carol = spawn("carol", "c1")
      await Promise.all([
        alice.waitOpen(["bob/b1", "carol/c1"]),
        bob.waitOpen(["alice/a1", "carol/c1"]),
        carol.waitOpen(["alice/a1", "bob/b1"])
      ])
      await alice.waitFor("leadership", (e) => (e.event === "view" && e.isLeader === true ? true : undefined))
      const text = "sent before the leader died"
      const committed = async () => {
        for (const c of await hub.hub.git.log(REPO, BRANCH)) {
          for (const path of c.paths) if (path !== PRESENCE_PATH && ((await hub.hub.git.readFile(REPO, BRANCH, path)) ?? "").includes(text)) return true
        }
        return false
      }
      bob.say(text)
      await Promise.all([alice.waitMessage(text), carol.waitMessage(text)])
      alice.kill9()
      // Alice would commit only 5 s after the message: nothing of it is on the branch yet.
      expect(await committed()).toBe(false)

      // Both survivors stop counting alice as connected (reconnecting, then failed), and keep their own link.
      await Promise.all([bob.waitOpen(["carol/c1"]), carol.waitOpen(["bob/b1"])])
      const aliceDown = (e: PeerEvent) =>
        e.event === "view" && linkState(e, "alice/a1") !== undefined && linkState(e, "alice/a1") !== "open" ? true : undefined
      await Promise.all([bob.waitFor("alice's link down", aliceDown), carol.waitFor("alice's link down", aliceDown)])
      carol.say("still here after the crash")
      await bob.waitMessage("still here after the crash")

      await bob.waitFor("leadership", (e) => (e.event === "view" && e.isLeader === true ? true : undefined))
      const deadline = Date.now() + 40_000
      while (!(await committed()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250))
      expect(await committed()).toBe(true)
    },
    TEST_TIMEOUT_MS
  )
})
