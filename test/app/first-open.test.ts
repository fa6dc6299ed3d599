/**
 * `firstOpen` (when each session's channel first opened) is bounded: a peer open all day beside
 * sessions that come and go (every reload is a new one, and a collaborator can make them on
 * purpose) keeps what still decides something and drops the oldest of the rest.
 */
import { describe, expect, it } from "vitest"
import { defaultPeerConfig } from "../../src/app/config.js"
import type { PeerContext } from "../../src/app/context.js"
import { MAX_FIRST_OPEN, noteOpened, roleHolders } from "../../src/app/mesh.js"
import { initialState } from "../../src/app/peer.js"
import { peerKey } from "../../src/domain/identity.js"
import { entry, peer } from "../support/fixtures.js"

const self = peer("alice", "a1")
const contextAt = (startedAt: number): PeerContext =>
  ({ self, config: defaultPeerConfig, presence: { form: "file" }, state: initialState(startedAt) }) as unknown as PeerContext

describe("firstOpen", () => {
  it("stays within its bound however many sessions open, keeping linked and present ones", () => {
    const ctx = contextAt(0)
    const bob = peer("bob", "b1")
    const carol = peer("carol", "c1")
    noteOpened(ctx, peerKey(bob), 1)
    noteOpened(ctx, peerKey(carol), 2)
    // bob still has a link; carol is in the presence document.
    ctx.state.links.set(peerKey(bob), { peer: bob, state: "open" } as never)
    ctx.state.online.set(peerKey(carol), entry(carol, 2))
    let most = 0
    for (let i = 0; i < MAX_FIRST_OPEN * 3; i++) {
      noteOpened(ctx, `gone${i}/s`, 10 + i)
      most = Math.max(most, ctx.state.firstOpen.size)
    }
    expect(most).toBeLessThanOrEqual(MAX_FIRST_OPEN + 1)
    expect(ctx.state.firstOpen.get(peerKey(bob))).toBe(1)
    expect(ctx.state.firstOpen.get(peerKey(carol))).toBe(2)
    // The newest stay; the oldest of the gone went first.
    expect(ctx.state.firstOpen.has(`gone${MAX_FIRST_OPEN * 3 - 1}/s`)).toBe(true)
    expect(ctx.state.firstOpen.has("gone0/s")).toBe(false)
  })

  it("a channel that opens is seen by the role memo even when trims bring the map back to the same size", () => {
    const ctx = contextAt(0)
    const dave = peer("dave", "d1")
    const asked = [dave]
    for (let i = 0; i < MAX_FIRST_OPEN; i++) noteOpened(ctx, `gone${i}/s`, i)
    ctx.state.firstKnown.set(peerKey(dave), 0)
    const at = 10 * 60_000
    // dave was seen long ago and never answered: past its grace it holds no role.
    expect(roleHolders(ctx, asked, at)).toEqual([])
    const size = ctx.state.firstOpen.size
    // dave's channel opens (a trim follows), then other sessions bring the size back.
    noteOpened(ctx, peerKey(dave), at)
    for (let i = 0; ctx.state.firstOpen.size < size; i++) noteOpened(ctx, `later${i}/s`, at)
    expect(ctx.state.firstOpen.size).toBe(size)
    expect(roleHolders(ctx, asked, at).map(peerKey)).toEqual([peerKey(dave)])
  })
})
