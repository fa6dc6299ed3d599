/**
 * The call state machine of one session: a pure reducer from what happened
 * (a local action, a signal from a peer, a lost channel, the clock) to the next
 * state and the commands the calls service must carry out. A group call is a
 * mesh: one leg per other participant, and a leg carries media once both of its
 * ends have joined. Time is a parameter; nothing here reads a clock.
 */
import { Array as Arr } from "effect"
import { peerKey, samePeer, type PeerId } from "./identity.js"
import { MAX_CALL_PARTICIPANTS, type CallId, type CallMedia, type CallSignal } from "./call-signal.js"

export * from "./call-signal.js"

/** How long a call rings before an unanswered leg counts as missed. */
export const DEFAULT_RING_TIMEOUT_MS = 45_000

/** A leg's state as this session sees it. `ringing` waits for one of its ends to join. */
export type LegState = "ringing" | "accepted" | "rejected" | "busy" | "ended" | "missed"
/** The call as a whole: `accepted` once any leg carries media; the others are final. */
export type CallPhase = "ringing" | "accepted" | "rejected" | "busy" | "ended" | "missed"

/** What a participant sends: mute, camera off, screen share. */
export interface MediaState {
  readonly micMuted: boolean
  readonly cameraOff: boolean
  readonly screenSharing: boolean
}

/** Nothing muted, camera on, no screen share. */
export const initialMedia: MediaState = { micMuted: false, cameraOff: false, screenSharing: false }

/** The link to one other participant. */
export interface Leg {
  readonly peer: PeerId
  readonly state: LegState
  /** Whether the other end has joined (it initiated or accepted). */
  readonly joined: boolean
  /** What the other end last said it sends. */
  readonly media: MediaState
}

/** One call as this session sees it. */
export interface Call {
  readonly id: CallId
  readonly media: CallMedia
  readonly initiator: PeerId
  readonly direction: "outgoing" | "incoming"
  readonly phase: CallPhase
  /** Whether this session has joined (it dialed or accepted): only then does it capture and send. */
  readonly joined: boolean
  readonly legs: ReadonlyArray<Leg>
  readonly local: MediaState
  readonly startedAt: number
  /** Ringing legs become missed at this time. */
  readonly ringDeadline: number
  readonly endedAt: number | undefined
  /** Why the call ended, for the UI. */
  readonly reason: string | undefined
}

/** What the service must do; it carries these out in order. */
export type CallCommand =
  | { readonly _tag: "Send"; readonly to: PeerId; readonly signal: CallSignal }
  /** Capture the microphone, and the camera for a video call. */
  | { readonly _tag: "Acquire"; readonly media: CallMedia }
  /** Stop every local track. */
  | { readonly _tag: "Release" }
  /** Start showing the tracks `peer` sends (before any can arrive). */
  | { readonly _tag: "Watch"; readonly peer: PeerId }
  /** Put every local track on the connection to `peer`. */
  | { readonly _tag: "Connect"; readonly peer: PeerId }
  /** Take our tracks off the connection to `peer` and stop showing its tracks. */
  | { readonly _tag: "Disconnect"; readonly peer: PeerId }
  | { readonly _tag: "Enable"; readonly source: "microphone" | "camera"; readonly enabled: boolean }
  /** Capture the screen and send it on every accepted leg, or stop it. */
  | { readonly _tag: "Screen"; readonly on: boolean }

/** What can happen to the calls of a session. */
export type CallInput =
  | { readonly _tag: "Dial"; readonly id: CallId; readonly peers: ReadonlyArray<PeerId>; readonly media: CallMedia }
  | { readonly _tag: "Accept" }
  | { readonly _tag: "Reject" }
  | { readonly _tag: "HangUp"; readonly reason?: string }
  | { readonly _tag: "SetMicMuted"; readonly muted: boolean }
  | { readonly _tag: "SetCameraOff"; readonly off: boolean }
  | { readonly _tag: "SetScreenSharing"; readonly on: boolean }
  /**
   * A signal from a peer; `sentAt` is when the sender sent it (its clock), known for
   * signals that came through the presence channel and may be late: an invite rings
   * only for what is left of the ring time, so both ends give up at about the same time.
   */
  | { readonly _tag: "Signal"; readonly from: PeerId; readonly signal: CallSignal; readonly sentAt?: number }
  | { readonly _tag: "LinkLost"; readonly peer: PeerId }
  | { readonly _tag: "Tick" }

/** The calls of one session: at most one current (or last) call. */
export interface CallsState {
  readonly self: PeerId
  readonly ringTimeoutMs: number
  readonly call: Call | undefined
}

/** The result of one step: the next state and what to do. */
export interface Step {
  readonly state: CallsState
  readonly commands: ReadonlyArray<CallCommand>
}

/** A session with no call. */
export const initialCalls = (self: PeerId, ringTimeoutMs: number = DEFAULT_RING_TIMEOUT_MS): CallsState => ({ self, ringTimeoutMs, call: undefined })

const FINAL: ReadonlySet<CallPhase> = new Set(["rejected", "busy", "ended", "missed"])
const FINAL_LEG: ReadonlySet<LegState> = new Set(["rejected", "busy", "ended", "missed"])

/** Whether a call is over. */
export const isFinal = (call: Call): boolean => FINAL.has(call.phase)

/** Whether a new call may start: none is ringing or accepted. */
export const isIdle = (state: CallsState): boolean => state.call === undefined || isFinal(state.call)

const liveLegs = (call: Call): ReadonlyArray<Leg> => call.legs.filter((l) => !FINAL_LEG.has(l.state))

const send = (to: PeerId, signal: CallSignal): CallCommand => ({ _tag: "Send", to, signal })
const mediaSignal = (call: Call): CallSignal => ({ _tag: "media", call: call.id, ...call.local })

/**
 * The phase a call has when no leg is live any more: `ended` once media flowed;
 * `missed` for an incoming call never answered (it timed out or the caller gave
 * up); otherwise what the legs say (any missed, all busy, else rejected).
 */
const finalPhase = (call: Call, everAccepted: boolean): CallPhase => {
  if (everAccepted) return "ended"
  if (call.direction === "incoming" && !call.joined) return "missed"
  if (call.legs.some((l) => l.state === "missed")) return "missed"
  if (call.legs.length > 0 && call.legs.every((l) => l.state === "busy")) return "busy"
  return call.legs.every((l) => l.state === "rejected" || l.state === "busy") ? "rejected" : "ended"
}

/**
 * Settles a call after a change: a leg is worth waiting for while it carries
 * media or one of its ends has joined; with none left the call is over.
 */
const settle = (call: Call, at: number, commands: Array<CallCommand>, everAccepted: boolean): Call => {
  if (isFinal(call)) return call
  const accepted = call.legs.some((l) => l.state === "accepted")
  const waiting = call.legs.some((l) => l.state === "ringing" && (call.joined || l.joined))
  if (accepted) return call.phase === "accepted" ? call : { ...call, phase: "accepted" }
  if (waiting) return call
  if (call.joined) commands.push({ _tag: "Release" })
  // Legs between others who never joined end with the call.
  const legs = call.legs.map((l) => (l.state === "ringing" ? { ...l, state: "ended" as const } : l))
  const phase = finalPhase(call, everAccepted || call.phase === "accepted")
  return { ...call, legs, phase, endedAt: at, reason: call.reason ?? "no one left in the call" }
}

const updateLeg = (call: Call, peer: PeerId, f: (leg: Leg) => Leg): Call => ({
  ...call,
  legs: call.legs.map((l) => (samePeer(l.peer, peer) ? f(l) : l))
})

const legOf = (call: Call, peer: PeerId): Leg | undefined => call.legs.find((l) => samePeer(l.peer, peer))

/** A leg whose two ends have joined starts carrying media, and both ends hear that it did. */
const connectReady = (call: Call, commands: Array<CallCommand>): Call => {
  if (!call.joined) return call
  return {
    ...call,
    legs: call.legs.map((l) => {
      if (l.state !== "ringing" || !l.joined) return l
      commands.push({ _tag: "Connect", peer: l.peer }, send(l.peer, mediaSignal(call)))
      return { ...l, state: "accepted" }
    })
  }
}

const newLeg = (peer: PeerId, joined: boolean): Leg => ({ peer, state: "ringing", joined, media: initialMedia })

/** Distinct participants other than `self`, bounded. */
const others = (self: PeerId, peers: ReadonlyArray<PeerId>): ReadonlyArray<PeerId> =>
  Arr.dedupeWith(peers, samePeer)
    .filter((p) => !samePeer(p, self))
    .slice(0, MAX_CALL_PARTICIPANTS - 1)

const dial = (state: CallsState, input: Extract<CallInput, { _tag: "Dial" }>, at: number): Step => {
  const peers = others(state.self, input.peers)
  if (!isIdle(state) || peers.length === 0) return { state, commands: [] }
  const call: Call = {
    id: input.id,
    media: input.media,
    initiator: state.self,
    direction: "outgoing",
    phase: "ringing",
    joined: true,
    legs: peers.map((p) => newLeg(p, false)),
    local: initialMedia,
    startedAt: at,
    ringDeadline: at + state.ringTimeoutMs,
    endedAt: undefined,
    reason: undefined
  }
  const invite: CallSignal = { _tag: "invite", call: call.id, media: call.media, participants: [state.self, ...peers] }
  return {
    state: { ...state, call },
    commands: [{ _tag: "Acquire", media: call.media }, ...peers.flatMap((p): Array<CallCommand> => [{ _tag: "Watch", peer: p }, send(p, invite)])]
  }
}

const onInvite = (state: CallsState, from: PeerId, invite: Extract<CallSignal, { _tag: "invite" }>, at: number, sentAt: number): Step => {
  const current = state.call
  if (current !== undefined && current.id === invite.call) return { state, commands: [] }
  const listed = (p: PeerId) => invite.participants.some((q) => samePeer(p, q))
  // An invite that does not name its sender and us is not a call we are in.
  if (!listed(from) || !listed(state.self)) return { state, commands: [] }
  if (!isIdle(state)) return { state, commands: [send(from, { _tag: "busy", call: invite.call })] }
  const call: Call = {
    id: invite.call,
    media: invite.media,
    initiator: from,
    direction: "incoming",
    phase: "ringing",
    joined: false,
    legs: others(state.self, invite.participants).map((p) => newLeg(p, samePeer(p, from))),
    local: initialMedia,
    startedAt: at,
    ringDeadline: Math.min(at, sentAt) + state.ringTimeoutMs,
    endedAt: undefined,
    reason: undefined
  }
  return { state: { ...state, call }, commands: call.legs.map((l): CallCommand => ({ _tag: "Watch", peer: l.peer })) }
}

const endLeg = (call: Call, peer: PeerId, to: LegState, commands: Array<CallCommand>): Call => {
  const leg = legOf(call, peer)
  if (leg === undefined || FINAL_LEG.has(leg.state)) return call
  commands.push({ _tag: "Disconnect", peer })
  return updateLeg(call, peer, (l) => ({ ...l, state: to, joined: false }))
}

const onSignal = (state: CallsState, from: PeerId, signal: CallSignal, at: number, sentAt: number): Step => {
  if (signal._tag === "invite") return onInvite(state, from, signal, at, sentAt)
  const call = state.call
  if (call === undefined || call.id !== signal.call || isFinal(call)) return { state, commands: [] }
  const leg = legOf(call, from)
  if (leg === undefined) return { state, commands: [] }
  const commands: Array<CallCommand> = []
  const everAccepted = call.phase === "accepted"
  let next: Call = call
  switch (signal._tag) {
    case "accept": {
      if (leg.state !== "ringing") return { state, commands: [] }
      next = connectReady(updateLeg(call, from, (l) => ({ ...l, joined: true })), commands)
      // Acknowledge, so a peer that missed our accept (it arrived before its invite) still connects.
      if (legOf(next, from)?.state === "accepted") commands.push(send(from, { _tag: "accept", call: call.id }))
      break
    }
    case "reject":
      next = endLeg(call, from, "rejected", commands)
      break
    case "busy":
      next = endLeg(call, from, "busy", commands)
      break
    case "hangup":
      next = endLeg(call, from, "ended", commands)
      break
    case "media":
      next = updateLeg(call, from, (l) => ({ ...l, media: { micMuted: signal.micMuted, cameraOff: signal.cameraOff, screenSharing: signal.screenSharing } }))
      break
  }
  return { state: { ...state, call: settle(next, at, commands, everAccepted) }, commands }
}

/** Ends the call from this side: everyone still in it hears why, and local media stops. */
const leave = (state: CallsState, call: Call, signal: "reject" | "hangup", phase: CallPhase, reason: string, at: number): Step => {
  const commands: Array<CallCommand> = []
  for (const leg of liveLegs(call)) {
    commands.push(send(leg.peer, { _tag: signal, call: call.id }), { _tag: "Disconnect", peer: leg.peer })
  }
  if (call.joined) commands.push({ _tag: "Release" })
  const legs = call.legs.map((l) => (FINAL_LEG.has(l.state) ? l : { ...l, state: "ended" as const, joined: false }))
  return { state: { ...state, call: { ...call, legs, phase, endedAt: at, reason } }, commands }
}

const setLocal = (state: CallsState, call: Call, local: MediaState, commands: Array<CallCommand>): Step => {
  const next = { ...call, local }
  for (const leg of next.legs) if (leg.state === "accepted") commands.push(send(leg.peer, mediaSignal(next)))
  return { state: { ...state, call: next }, commands }
}

/** One step of the calls of a session at time `at`. */
export const step = (state: CallsState, input: CallInput, at: number): Step => {
  if (input._tag === "Dial") return dial(state, input, at)
  if (input._tag === "Signal") return onSignal(state, input.from, input.signal, at, input.sentAt ?? at)
  const call = state.call
  if (call === undefined || isFinal(call)) return { state, commands: [] }
  const unchanged: Step = { state, commands: [] }
  switch (input._tag) {
    case "Accept": {
      if (call.joined) return unchanged
      const joined: Call = { ...call, joined: true }
      const commands: Array<CallCommand> = [{ _tag: "Acquire", media: call.media }]
      for (const leg of liveLegs(call)) commands.push(send(leg.peer, { _tag: "accept", call: call.id }))
      return { state: { ...state, call: settle(connectReady(joined, commands), at, commands, false) }, commands }
    }
    case "Reject":
      return call.joined ? unchanged : leave(state, call, "reject", "rejected", "rejected", at)
    case "HangUp":
      return leave(state, call, "hangup", call.joined ? "ended" : "rejected", input.reason ?? "hung up", at)
    case "SetMicMuted":
      if (!call.joined || call.local.micMuted === input.muted) return unchanged
      return setLocal(state, call, { ...call.local, micMuted: input.muted }, [{ _tag: "Enable", source: "microphone", enabled: !input.muted }])
    case "SetCameraOff":
      if (!call.joined || call.media !== "video" || call.local.cameraOff === input.off) return unchanged
      return setLocal(state, call, { ...call.local, cameraOff: input.off }, [{ _tag: "Enable", source: "camera", enabled: !input.off }])
    case "SetScreenSharing":
      if (!call.joined || call.local.screenSharing === input.on) return unchanged
      return setLocal(state, call, { ...call.local, screenSharing: input.on }, [{ _tag: "Screen", on: input.on }])
    case "LinkLost": {
      const commands: Array<CallCommand> = []
      const everAccepted = call.phase === "accepted"
      const next = endLeg(call, input.peer, "ended", commands)
      return next === call ? unchanged : { state: { ...state, call: settle(next, at, commands, everAccepted) }, commands }
    }
    case "Tick": {
      if (at < call.ringDeadline || !call.legs.some((l) => l.state === "ringing")) return unchanged
      const commands: Array<CallCommand> = []
      const everAccepted = call.phase === "accepted"
      for (const l of call.legs) if (l.state === "ringing") commands.push({ _tag: "Disconnect", peer: l.peer })
      const legs = call.legs.map((l) => (l.state === "ringing" ? { ...l, state: "missed" as const } : l))
      return { state: { ...state, call: settle({ ...call, legs }, at, commands, everAccepted) }, commands }
    }
  }
}

/** Peers with an accepted leg: the ones media flows with. */
export const connectedPeers = (call: Call): ReadonlyArray<PeerId> => call.legs.filter((l) => l.state === "accepted").map((l) => l.peer)

/** A stable key for a leg's peer, for maps in the service and UI. */
export const legKey = (leg: Leg): string => peerKey(leg.peer)
