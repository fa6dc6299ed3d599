/**
 * The mesh's reconcile as a pure step: what it withdraws, forgets, displaces and offers, from
 * plain data (no peer, no clock, no transport).
 */
import { describe, expect, it } from "vitest"
import { makePeerId, peerKey, type PeerId } from "../../src/domain/identity.js"
import type { NeighborReport } from "../../src/domain/mesh-view.js"
import {
  expiries,
  MAX_ATTEMPTS_IN_FLIGHT,
  MAX_UNPROVEN_PRESENCE_ATTEMPTS,
  nextReconcileAt,
  RECONCILE_EVERY_MS,
  stepReconcile,
  type LinkFacts,
  type ReconcileView
} from "../../src/domain/mesh-reconcile.js"

const AT = 1_000_000
const self = makePeerId("aaa", "s")
const peer = (name: string): PeerId => makePeerId(name, "s")

const idle = (p: PeerId, over: Partial<LinkFacts> = {}): LinkFacts => ({
  peer: p,
  state: "discovered",
  attempt: undefined,
  via: undefined,
  deadline: 0,
  retryAt: 0,
  meshRetryAt: 0,
  heardAt: 0,
  ...over
})
const open = (p: PeerId): LinkFacts => idle(p, { state: "open", attempt: "x.1", heardAt: AT })
const offering = (p: PeerId, via: "presence" | "mesh", attempt = `${p.username}.1`): LinkFacts =>
  idle(p, { state: "signaling", attempt, via, deadline: AT + 60_000 })

const table = (links: ReadonlyArray<LinkFacts>): ReadonlyMap<string, LinkFacts> => new Map(links.map((l) => [peerKey(l.peer), l]))

/** A view where `online` are online and live, self alone in its component (so it sponsors them all). */
const view = (over: Partial<ReconcileView> & { readonly online: ReadonlyArray<PeerId> }): ReconcileView => ({
  self,
  bridgeable: over.online,
  live: over.online,
  component: [self],
  roleComponent: [self],
  roleLive: over.online,
  established: [],
  open: [],
  reports: new Map(),
  outsideSince: new Map(),
  answered: new Map(),
  arrivals: new Map(),
  known: new Map(),
  fingerprinted: () => true,
  unwritten: new Map(),
  writing: false,
  newcomerWindowMs: 120_000,
  bridgePatienceMs: 60_000,
  ...over
})

const report = (from: PeerId, neighbors: ReadonlyArray<PeerId>): [string, NeighborReport] => [peerKey(from), { peer: from, neighbors, heardAt: AT }]

describe("stepReconcile", () => {
  it("offers through presence to every online session it sponsors, and through the mesh where a neighbor reaches one", () => {
    const [b, c, d] = [peer("bbb"), peer("ccc"), peer("ddd")]
    const step = stepReconcile(
      table([open(b), idle(c), idle(d)]),
      view({ online: [b, c, d], component: [self, b], roleComponent: [self, b], open: [b], reports: new Map([report(b, [self, c])]) }),
      AT
    )
    expect(step.commands).toEqual([
      { _tag: "Offer", key: peerKey(c), via: "mesh" },
      { _tag: "Offer", key: peerKey(d), via: "presence" }
    ])
  })

  it("withdraws an unanswered offer through presence once the mesh reaches its target, and offers through the mesh instead", () => {
    const [b, c] = [peer("bbb"), peer("ccc")]
    const step = stepReconcile(
      table([open(b), offering(c, "presence")]),
      view({
        online: [b, c],
        component: [self, b],
        roleComponent: [self, b],
        open: [b],
        reports: new Map([report(b, [self, c])]),
        unwritten: new Map([[peerKey(c), { attempt: "ccc.1" }]])
      }),
      AT
    )
    expect(step.commands).toEqual([
      { _tag: "Withdraw", key: peerKey(c), dropOffer: true },
      { _tag: "Offer", key: peerKey(c), via: "mesh" }
    ])
  })

  it("drops an unwritten offer to a session it no longer sponsors, and keeps one already being written", () => {
    const c = peer("ccc")
    const smaller = makePeerId("a", "s")
    const links = table([offering(c, "presence")])
    const base = { online: [smaller, c], roleLive: [smaller, c], unwritten: new Map([[peerKey(c), { attempt: "ccc.1" }]]) }
    expect(stepReconcile(links, view(base), AT).commands).toEqual([{ _tag: "Withdraw", key: peerKey(c), dropOffer: true }])
    expect(stepReconcile(links, view({ ...base, writing: true }), AT).commands).toEqual([])
  })

  it("forgets idle links to sessions neither online nor in reach, and keeps open ones", () => {
    const [b, gone] = [peer("bbb"), peer("zzz")]
    const step = stepReconcile(table([idle(gone), open(b)]), view({ online: [], component: [self, b], roleComponent: [self, b], open: [b] }), AT)
    expect(step.commands).toEqual([{ _tag: "Forget", key: peerKey(gone) }])
  })

  it("waits out a link's retry time unless a mesh route makes the shorter mesh backoff apply", () => {
    const [b, c, d] = [peer("bbb"), peer("ccc"), peer("ddd")]
    const backoff = { state: "reconnecting" as const, retryAt: AT + 60_000, meshRetryAt: AT - 1 }
    const step = stepReconcile(
      table([open(b), idle(c, backoff), idle(d, backoff)]),
      view({ online: [b, c, d], component: [self, b], roleComponent: [self, b], open: [b], reports: new Map([report(b, [self, c])]) }),
      AT
    )
    expect(step.commands).toEqual([{ _tag: "Offer", key: peerKey(c), via: "mesh" }])
  })

  it("never offers to a session with no published fingerprint, nor to one whose role is to offer", () => {
    const [b, c] = [peer("bbb"), peer("ccc")]
    const smaller = makePeerId("aa", "s")
    const step = stepReconcile(table([idle(b), idle(c), idle(smaller)]), view({ online: [b, c, smaller], roleLive: [b, c], fingerprinted: (k) => k !== peerKey(b) }), AT)
    expect(step.commands).toEqual([{ _tag: "Offer", key: peerKey(c), via: "presence" }])
  })

  it(`starts at most ${MAX_ATTEMPTS_IN_FLIGHT} attempts, those that answered before first, then newcomers, then the freshest`, () => {
    const b = peer("bbb")
    const others = Array.from({ length: 30 }, (_, i) => peer(`p${String(i).padStart(2, "0")}`))
    const answered = others[29]!
    const newcomer = others[28]!
    const step = stepReconcile(
      table([open(b), offering(peer("zzz"), "mesh"), ...others.map((p) => idle(p))]),
      view({
        online: [b, ...others],
        component: [self, b],
        roleComponent: [self, b],
        open: [b],
        reports: new Map([report(b, [self, ...others])]),
        answered: new Map([[peerKey(answered), AT - 10_000]]),
        arrivals: new Map([[peerKey(newcomer), AT - 1_000]]),
        known: new Map(others.map((p, i) => [peerKey(p), { lastSeen: AT - i * 1_000 }]))
      }),
      AT
    )
    const offered = step.commands.map((c) => (c._tag === "Offer" ? c.key : c._tag))
    expect(offered).toHaveLength(MAX_ATTEMPTS_IN_FLIGHT - 1)
    expect(offered.slice(0, 3)).toEqual([peerKey(answered), peerKey(newcomer), peerKey(others[0]!)])
  })

  it(`holds at most ${MAX_UNPROVEN_PRESENCE_ATTEMPTS} offers through presence to sessions that never answered; a newcomer takes the place of the stalest, even one offered in the same step`, () => {
    const silent = [peer("s1"), peer("s2"), peer("s3")]
    const newcomer = peer("zz")
    const known = new Map([...silent, newcomer].map((p, i) => [peerKey(p), { lastSeen: AT - (10 - i) * 1_000 }]))
    const links = table([...silent, newcomer].map((p) => idle(p)))
    const withoutNewcomer = stepReconcile(table(silent.map((p) => idle(p))), view({ online: silent, known }), AT)
    expect(withoutNewcomer.commands).toEqual([
      { _tag: "Offer", key: peerKey(silent[0]!), via: "presence" },
      { _tag: "Offer", key: peerKey(silent[1]!), via: "presence" }
    ])
    const step = stepReconcile(links, view({ online: [...silent, newcomer], known, arrivals: new Map([[peerKey(newcomer), AT - 1_000]]) }), AT)
    expect(step.commands).toEqual([
      { _tag: "Offer", key: peerKey(silent[0]!), via: "presence" },
      { _tag: "Offer", key: peerKey(silent[1]!), via: "presence" },
      { _tag: "GiveWay", key: peerKey(silent[0]!) },
      { _tag: "Offer", key: peerKey(newcomer), via: "presence" }
    ])
  })

  it("starts offers to sessions that never answered and are no newcomers in pairs, so each pair goes in one write", () => {
    // Seed 1 with crash and partition: a restarted session offered to the other side's sessions
    // one by one as each offer expired, one presence write each (126 repository writes an hour).
    const silent = [peer("s1"), peer("s2"), peer("s3")]
    const known = new Map(silent.map((p, i) => [peerKey(p), { lastSeen: AT - (10 - i) * 1_000 }]))
    const oneInFlight = table([offering(silent[0]!, "presence"), idle(silent[1]!), idle(silent[2]!)])
    expect(stepReconcile(oneInFlight, view({ online: silent, known }), AT).commands).toEqual([])
    // Both slots free: two start together.
    const none = table([idle(silent[0]!, { retryAt: AT + 60_000 }), idle(silent[1]!), idle(silent[2]!)])
    expect(stepReconcile(none, view({ online: silent, known }), AT).commands).toEqual([
      { _tag: "Offer", key: peerKey(silent[1]!), via: "presence" },
      { _tag: "Offer", key: peerKey(silent[2]!), via: "presence" }
    ])
    // A newcomer does not wait for the pair.
    const newcomer = peer("zz")
    const withNewcomer = table([offering(silent[0]!, "presence"), idle(silent[1]!), idle(newcomer)])
    const step = stepReconcile(
      withNewcomer,
      view({ online: [...silent.slice(0, 2), newcomer], known, arrivals: new Map([[peerKey(newcomer), AT - 1_000]]) }),
      AT
    )
    expect(step.commands).toEqual([{ _tag: "Offer", key: peerKey(newcomer), via: "presence" }])
  })

  it("an alone joiner of an established mesh offers first to its smallest member above it", () => {
    const smaller = makePeerId("a", "s")
    const [m1, m2] = [peer("mmm"), peer("bbb")]
    const step = stepReconcile(
      table([idle(m1), idle(m2)]),
      view({ online: [smaller, m1, m2], live: [smaller, m1, m2], roleLive: [smaller, m1, m2], established: [m1, m2] }),
      AT
    )
    // `smaller` sponsors (no first contact of this peer's own), so only the probe to bbb goes out.
    expect(step.commands).toEqual([{ _tag: "Offer", key: peerKey(m2), via: "presence" }])
  })

  it("keeps since when each online session has been outside the component, and forgets members and the departed", () => {
    const [b, c, gone] = [peer("bbb"), peer("ccc"), peer("zzz")]
    const step = stepReconcile(
      table([open(b)]),
      view({
        online: [b, c],
        component: [self, b],
        outsideSince: new Map([
          [peerKey(b), AT - 5_000],
          [peerKey(c), AT - 7_000],
          [peerKey(gone), AT - 9_000]
        ])
      }),
      AT
    )
    expect([...step.outsideSince]).toEqual([[peerKey(c), AT - 7_000]])
    expect([...stepReconcile(table([]), view({ online: [c] }), AT).outsideSince]).toEqual([[peerKey(c), AT]])
  })
})

describe("expiries and the next reconcile", () => {
  it("finds silent reports, silent open links and attempts past their deadline", () => {
    const [b, c, d, e] = [peer("bbb"), peer("ccc"), peer("ddd"), peer("eee")]
    const links = table([
      { ...open(b), heardAt: AT - 30_000 },
      offering(c, "mesh"),
      { ...offering(d, "mesh"), deadline: AT - 1 },
      idle(e, { state: "reconnecting", restartingSince: AT - 70_000, deadline: AT - 10_000 })
    ])
    const reports = new Map([report(b, []), [peerKey(c), { peer: c, neighbors: [], heardAt: AT - 30_000 }]])
    expect(expiries(links, reports, AT, 30_000)).toEqual({ reports: [peerKey(c)], links: [peerKey(b), peerKey(d), peerKey(e)] })
    expect(expiries(table([open(b)]), new Map([report(b, [])]), AT, 30_000)).toBeUndefined()
  })

  it("is due when an idle link may retry or an attempt's deadline passes, else within the period", () => {
    const [b, c] = [peer("bbb"), peer("ccc")]
    expect(nextReconcileAt([], AT)).toBe(AT + RECONCILE_EVERY_MS)
    expect(nextReconcileAt([idle(b, { retryAt: AT + 2_000, meshRetryAt: AT + 1_000 }), idle(c)], AT)).toBe(AT + 1_000)
    expect(nextReconcileAt([{ ...offering(b, "mesh"), deadline: AT + 3_000 }], AT)).toBe(AT + 3_001)
  })
})
