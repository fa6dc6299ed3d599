/**
 * The pure call state machine: 1:1 outcomes as a table, group legs, a leg lost
 * mid-call, media state, and a property: whatever the order of actions, every
 * session ends final with its media released and every leg disconnected.
 */
import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import {
  initialCalls,
  step,
  type CallCommand,
  type CallInput,
  type CallPhase,
  type CallSignal,
  type CallsState
} from "../../src/domain/call.js"
import { makePeerId, peerKey, type PeerId } from "../../src/domain/identity.js"

const alice = makePeerId("alice", "a1")
const bob = makePeerId("bob", "b1")
const carol = makePeerId("carol", "c1")
const RING_MS = 30_000

const tags = (commands: ReadonlyArray<CallCommand>) => commands.map((c) => (c._tag === "Send" ? `Send:${c.signal._tag}>${c.to.username}` : c._tag === "Connect" || c._tag === "Disconnect" || c._tag === "Watch" ? `${c._tag}:${c.peer.username}` : c._tag))
const sends = (commands: ReadonlyArray<CallCommand>) => commands.flatMap((c) => (c._tag === "Send" ? [c] : []))

// ES2022 lib has no findLastIndex.
const lastIndex = <A>(xs: ReadonlyArray<A>, f: (a: A) => boolean): number => {
  for (let i = xs.length - 1; i >= 0; i--) if (f(xs[i]!)) return i
  return -1
}

/** Drives a set of sessions, delivering every Send at once, in order. */
class Room {
  readonly states = new Map<string, CallsState>()
  readonly log = new Map<string, Array<CallCommand>>()
  now = 0
  /** Links that are cut: signals over them are lost. */
  readonly cut = new Set<string>()

  constructor(peers: ReadonlyArray<PeerId>) {
    for (const p of peers) {
      this.states.set(peerKey(p), initialCalls(p, RING_MS))
      this.log.set(peerKey(p), [])
    }
  }

  state(p: PeerId): CallsState {
    return this.states.get(peerKey(p))!
  }

  phase(p: PeerId): CallPhase | undefined {
    return this.state(p).call?.phase
  }

  /** Applies `input` at `p` and delivers the resulting signals (and theirs) until quiet. */
  apply(p: PeerId, input: CallInput): ReadonlyArray<CallCommand> {
    const first = this.stepAt(p, input)
    const queue: Array<[PeerId, PeerId, CallSignal]> = sends(first).map((s) => [p, s.to, s.signal])
    while (queue.length > 0) {
      const [from, to, signal] = queue.shift()!
      if (!this.states.has(peerKey(to)) || this.cut.has(`${peerKey(from)}|${peerKey(to)}`)) continue
      for (const s of sends(this.stepAt(to, { _tag: "Signal", from, signal }))) queue.push([to, s.to, s.signal])
    }
    return first
  }

  private stepAt(p: PeerId, input: CallInput): ReadonlyArray<CallCommand> {
    const result = step(this.state(p), input, this.now)
    this.states.set(peerKey(p), result.state)
    this.log.get(peerKey(p))!.push(...result.commands)
    return result.commands
  }

  commands(p: PeerId): ReadonlyArray<CallCommand> {
    return this.log.get(peerKey(p))!
  }
}

const dial = (peers: ReadonlyArray<PeerId>, media: "audio" | "video" = "video"): CallInput => ({ _tag: "Dial", id: "call-1", peers, media })

describe("a 1:1 call", () => {
  it("rings, then both sides connect once the callee accepts", () => {
    const room = new Room([alice, bob])
    const out = room.apply(alice, dial([bob]))
    expect(tags(out)).toEqual(["Acquire", "Watch:bob", "Send:invite>bob"])
    expect(room.phase(alice)).toBe("ringing")
    expect(room.phase(bob)).toBe("ringing")
    expect(room.state(bob).call?.direction).toBe("incoming")
    expect(tags(room.commands(bob))).toEqual(["Watch:alice"])

    const accepted = room.apply(bob, { _tag: "Accept" })
    expect(tags(accepted)).toEqual(["Acquire", "Send:accept>alice", "Connect:alice", "Send:media>alice"])
    expect(room.phase(alice)).toBe("accepted")
    expect(room.phase(bob)).toBe("accepted")
    expect(tags(room.commands(alice))).toContain("Connect:bob")
  })

  const outcomes: ReadonlyArray<{
    readonly name: string
    readonly run: (room: Room) => void
    readonly caller: CallPhase
    readonly callee: CallPhase
  }> = [
    { name: "callee rejects", run: (r) => r.apply(bob, { _tag: "Reject" }), caller: "rejected", callee: "rejected" },
    { name: "caller cancels while ringing", run: (r) => r.apply(alice, { _tag: "HangUp" }), caller: "ended", callee: "missed" },
    {
      name: "nobody answers before the deadline",
      run: (r) => {
        r.now = RING_MS
        r.apply(alice, { _tag: "Tick" })
        r.apply(bob, { _tag: "Tick" })
      },
      caller: "missed",
      callee: "missed"
    },
    {
      name: "callee hangs up after accepting",
      run: (r) => {
        r.apply(bob, { _tag: "Accept" })
        r.apply(bob, { _tag: "HangUp" })
      },
      caller: "ended",
      callee: "ended"
    },
    {
      name: "caller hangs up after the callee accepted",
      run: (r) => {
        r.apply(bob, { _tag: "Accept" })
        r.apply(alice, { _tag: "HangUp" })
      },
      caller: "ended",
      callee: "ended"
    },
    {
      name: "the channel drops mid-call",
      run: (r) => {
        r.apply(bob, { _tag: "Accept" })
        r.apply(alice, { _tag: "LinkLost", peer: bob })
        r.apply(bob, { _tag: "LinkLost", peer: alice })
      },
      caller: "ended",
      callee: "ended"
    },
    {
      name: "an accepted call outlives the ring deadline",
      run: (r) => {
        r.apply(bob, { _tag: "Accept" })
        r.now = 10 * RING_MS
        r.apply(alice, { _tag: "Tick" })
        r.apply(bob, { _tag: "Tick" })
      },
      caller: "accepted",
      callee: "accepted"
    }
  ]

  for (const o of outcomes) {
    it(`${o.name}: caller ${o.caller}, callee ${o.callee}`, () => {
      const room = new Room([alice, bob])
      room.apply(alice, dial([bob]))
      room.now = 1_000
      o.run(room)
      expect(room.phase(alice)).toBe(o.caller)
      expect(room.phase(bob)).toBe(o.callee)
    })
  }

  it("a busy callee answers busy and keeps its own call", () => {
    const room = new Room([alice, bob, carol])
    room.apply(carol, { _tag: "Dial", id: "other", peers: [bob], media: "audio" })
    room.apply(bob, { _tag: "Accept" })
    room.apply(alice, dial([bob]))
    expect(room.phase(alice)).toBe("busy")
    expect(tags(room.commands(alice))).toContain("Release")
    expect(room.state(bob).call?.id).toBe("other")
    expect(room.phase(bob)).toBe("accepted")
  })

  it("a ringing leg is not timed out one millisecond early", () => {
    const room = new Room([alice, bob])
    room.apply(alice, dial([bob]))
    room.now = RING_MS - 1
    room.apply(alice, { _tag: "Tick" })
    expect(room.phase(alice)).toBe("ringing")
  })

  it("ignores an invite that does not name its sender and us", () => {
    const state = initialCalls(bob, RING_MS)
    const invite: CallSignal = { _tag: "invite", call: "x", media: "audio", participants: [alice, carol] }
    const result = step(state, { _tag: "Signal", from: alice, signal: invite }, 0)
    expect(result.state.call).toBeUndefined()
    expect(result.commands).toEqual([])
  })

  it("ignores signals of another call and signals from outside the call", () => {
    const room = new Room([alice, bob, carol])
    room.apply(alice, dial([bob]))
    room.apply(carol, { _tag: "Signal", from: carol, signal: { _tag: "accept", call: "call-1" } })
    const stray = step(room.state(alice), { _tag: "Signal", from: carol, signal: { _tag: "accept", call: "call-1" } }, 0)
    expect(stray.commands).toEqual([])
    const other = step(room.state(alice), { _tag: "Signal", from: bob, signal: { _tag: "hangup", call: "call-2" } }, 0)
    expect(other.state.call?.phase).toBe("ringing")
  })
})

describe("media state", () => {
  const started = () => {
    const room = new Room([alice, bob])
    room.apply(alice, dial([bob]))
    room.apply(bob, { _tag: "Accept" })
    return room
  }

  it("mute, camera off and screen share change the local tracks and tell the other side", () => {
    const room = started()
    expect(tags(room.apply(alice, { _tag: "SetMicMuted", muted: true }))).toEqual(["Enable", "Send:media>bob"])
    expect(tags(room.apply(alice, { _tag: "SetCameraOff", off: true }))).toEqual(["Enable", "Send:media>bob"])
    expect(tags(room.apply(alice, { _tag: "SetScreenSharing", on: true }))).toEqual(["Screen", "Send:media>bob"])
    const seen = room.state(bob).call?.legs[0]?.media
    expect(seen).toEqual({ micMuted: true, cameraOff: true, screenSharing: true })
    expect(room.apply(alice, { _tag: "SetMicMuted", muted: true })).toEqual([])
  })

  it("camera off does nothing in an audio call, and nothing changes before joining", () => {
    const room = new Room([alice, bob])
    room.apply(alice, dial([bob], "audio"))
    expect(room.apply(alice, { _tag: "SetCameraOff", off: true })).toEqual([])
    expect(room.apply(bob, { _tag: "SetMicMuted", muted: true })).toEqual([])
  })
})

describe("a group call", () => {
  it("connects every pair of participants that joined, whichever accept arrives first", () => {
    const room = new Room([alice, bob, carol])
    room.apply(alice, dial([bob, carol]))
    room.apply(bob, { _tag: "Accept" })
    expect(room.state(carol).call?.legs.find((l) => l.peer.username === "bob")?.joined).toBe(true)
    room.apply(carol, { _tag: "Accept" })
    for (const p of [alice, bob, carol]) {
      expect(room.phase(p)).toBe("accepted")
      expect(room.state(p).call?.legs.map((l) => l.state)).toEqual(["accepted", "accepted"])
    }
  })

  it("connects two callees even when the first accept was lost (it raced the invite)", () => {
    const room = new Room([alice, bob, carol])
    room.apply(alice, dial([bob, carol]))
    room.cut.add(`${peerKey(bob)}|${peerKey(carol)}`)
    room.apply(bob, { _tag: "Accept" })
    room.cut.clear()
    room.apply(carol, { _tag: "Accept" })
    expect(room.state(carol).call?.legs.map((l) => l.state)).toEqual(["accepted", "accepted"])
    expect(room.state(bob).call?.legs.map((l) => l.state)).toEqual(["accepted", "accepted"])
  })

  it("a participant leaving mid-call ends only its leg", () => {
    const room = new Room([alice, bob, carol])
    room.apply(alice, dial([bob, carol]))
    room.apply(bob, { _tag: "Accept" })
    room.apply(carol, { _tag: "Accept" })
    const out = room.apply(alice, { _tag: "LinkLost", peer: carol })
    expect(tags(out)).toEqual(["Disconnect:carol"])
    expect(room.phase(alice)).toBe("accepted")
    expect(room.state(alice).call?.legs.map((l) => [l.peer.username, l.state])).toEqual([
      ["bob", "accepted"],
      ["carol", "ended"]
    ])
    room.apply(carol, { _tag: "HangUp" })
    expect(room.phase(bob)).toBe("accepted")
    expect(room.state(bob).call?.legs.find((l) => l.peer.username === "carol")?.state).toBe("ended")
    room.apply(bob, { _tag: "HangUp" })
    expect(room.phase(alice)).toBe("ended")
    expect(tags(room.commands(alice)).filter((t) => t === "Release")).toHaveLength(1)
  })

  it("one rejection and one busy leave the caller rejected; all busy is busy", () => {
    const room = new Room([alice, bob, carol])
    room.apply(alice, dial([bob, carol]))
    room.apply(bob, { _tag: "Reject" })
    expect(room.phase(alice)).toBe("ringing")
    room.apply(alice, { _tag: "Signal", from: carol, signal: { _tag: "busy", call: "call-1" } })
    expect(room.phase(alice)).toBe("rejected")
  })
})

describe("property: every session ends clean", () => {
  const peers = [alice, bob, carol]
  const action = fc.record({
    who: fc.integer({ min: 0, max: 2 }),
    what: fc.constantFrom<CallInput["_tag"]>("Accept", "Reject", "HangUp", "SetMicMuted", "SetScreenSharing", "LinkLost", "Tick"),
    other: fc.integer({ min: 0, max: 2 }),
    advance: fc.integer({ min: 0, max: RING_MS / 2 })
  })

  it("is final, released once and disconnected from every connected peer", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 }), fc.array(action, { maxLength: 25 }), (invited, actions) => {
        const room = new Room(peers)
        room.apply(alice, dial(peers.slice(1, 1 + invited)))
        for (const a of actions) {
          room.now += a.advance
          const who = peers[a.who]!
          const other = peers[a.other]!
          const input: CallInput =
            a.what === "SetMicMuted" ? { _tag: "SetMicMuted", muted: a.advance % 2 === 0 }
            : a.what === "SetScreenSharing" ? { _tag: "SetScreenSharing", on: a.advance % 2 === 0 }
            : a.what === "LinkLost" ? { _tag: "LinkLost", peer: other }
            : { _tag: a.what } as CallInput
          room.apply(who, input)
        }
        for (const p of peers) room.apply(p, { _tag: "HangUp" })
        for (const p of peers) {
          const call = room.state(p).call
          if (call === undefined) continue
          expect(["rejected", "busy", "ended", "missed"]).toContain(call.phase)
          expect(call.legs.some((l) => l.state === "accepted" || l.state === "ringing")).toBe(false)
          const log = room.commands(p)
          const acquired = log.filter((c) => c._tag === "Acquire").length
          expect(log.filter((c) => c._tag === "Release").length).toBe(acquired)
          // Whatever was connected last was disconnected after.
          for (const q of peers) {
            const lastConnect = lastIndex(log, (c) => c._tag === "Connect" && peerKey(c.peer) === peerKey(q))
            const lastDisconnect = lastIndex(log, (c) => c._tag === "Disconnect" && peerKey(c.peer) === peerKey(q))
            expect(lastDisconnect >= lastConnect).toBe(true)
          }
        }
      }),
      { numRuns: 300 }
    )
  })
})
