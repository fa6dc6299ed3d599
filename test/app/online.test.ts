/**
 * The mesh manager's online and live views are kept between ticks; these tests
 * check that what is kept never differs from what a fresh computation would say,
 * as time passes with nothing else changing, and after a change.
 */
import { describe, expect, it } from "vitest"
import { MAX_CLOCK_SKEW_MS } from "../../src/domain/heartbeat.js"
import { peerKey, type PeerId } from "../../src/domain/identity.js"
import { defaultPeerConfig } from "../../src/app/config.js"
import type { PeerContext } from "../../src/app/context.js"
import { livePeers, onlinePeers } from "../../src/app/mesh.js"
import { initialState } from "../../src/app/peer.js"
import { entry, peer } from "../support/fixtures.js"

const self = peer("alice", "a1")
const bob = peer("bob", "b1")
const carol = peer("carol", "c1")
const { presenceExpiryMs } = defaultPeerConfig

/** Just what the online views read: the session, its configuration and its state. */
const contextAt = (startedAt: number, seen: ReadonlyArray<readonly [PeerId, number]>): PeerContext => {
  const state = initialState(startedAt)
  state.online = new Map(seen.map(([p, lastSeen]) => [peerKey(p), entry(p, lastSeen)] as const))
  state.presenceVersion = 1
  return { self, config: defaultPeerConfig, state } as unknown as PeerContext
}

const names = (peers: ReadonlyArray<PeerId>) => peers.map((p) => p.username)

describe("online views", () => {
  it("an entry goes offline at its expiry though nothing else changes", () => {
    const ctx = contextAt(0, [[bob, 1_000]])
    expect(names(onlinePeers(ctx, 2_000))).toEqual(["bob"])
    expect(names(onlinePeers(ctx, 1_000 + presenceExpiryMs - 1))).toEqual(["bob"])
    expect(names(onlinePeers(ctx, 1_000 + presenceExpiryMs))).toEqual([])
  })

  it("an entry stamped too far ahead is believed once the clock comes within the allowed skew", () => {
    const ahead = 500_000
    const ctx = contextAt(0, [[carol, ahead]])
    expect(names(onlinePeers(ctx, ahead - MAX_CLOCK_SKEW_MS - 1))).toEqual([])
    expect(names(onlinePeers(ctx, ahead - MAX_CLOCK_SKEW_MS))).toEqual(["carol"])
  })

  it("a new read of the channel and a lost connection are seen at once", () => {
    const ctx = contextAt(0, [[bob, 1_000]])
    expect(names(onlinePeers(ctx, 2_000))).toEqual(["bob"])
    ctx.state.online = new Map([[peerKey(bob), entry(bob, 1_000)], [peerKey(carol), entry(carol, 1_500)]])
    ctx.state.presenceVersion += 1
    expect(names(onlinePeers(ctx, 2_000))).toEqual(["bob", "carol"])
    ctx.state.lost.set(peerKey(bob), 1_800)
    ctx.state.meshVersion += 1
    expect(names(onlinePeers(ctx, 2_000))).toEqual(["carol"])
  })

  it("each expiry gets its own answer", () => {
    const ctx = contextAt(0, [[bob, 0]])
    const at = defaultPeerConfig.presenceRefreshMs + 2 * defaultPeerConfig.pollBaseMs + 1
    expect(names(onlinePeers(ctx, at))).toEqual(["bob"])
    expect(names(livePeers(ctx, at))).toEqual([])
    expect(names(onlinePeers(ctx, at))).toEqual(["bob"])
  })

  it("an old entry of one's own user outside the mesh is not live, a newer one is", () => {
    const predecessor = peer("alice", "old")
    const sibling = peer("alice", "tab2")
    const ctx = contextAt(10_000, [[predecessor, 5_000], [sibling, 12_000]])
    expect(names(onlinePeers(ctx, 13_000))).toEqual(["alice", "alice"])
    expect(livePeers(ctx, 13_000).map(peerKey)).toEqual([peerKey(sibling)])
  })
})
