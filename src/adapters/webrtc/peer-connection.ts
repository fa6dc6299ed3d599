/**
 * One RTCPeerConnection to one peer, with its single data channel: offer/answer
 * carrying their candidates (once gathered, or once every kind the ICE servers give is in:
 * `gathering.ts`), framed sends that wait on `bufferedAmount`, reassembly and identity check
 * of what arrives, keepalive and liveness, and ICE restarts when an open connection loses its
 * network path.
 * Callbacks from the platform are bridged into Effect with the captured runtime.
 */
import { Effect, Either, Fiber, Runtime, Schedule } from "effect"
import { acceptFrame, EnvelopeRejected, type Description } from "../../domain/envelope.js"
import { restartAttempt } from "../../domain/ice-restart.js"
import type { ChannelState, Incoming, RemotePeer } from "../../ports/PeerTransport.js"
import { TransportError } from "../../ports/PeerTransport.js"
import { dtlsFingerprint, type SessionIdentity } from "./fingerprint.js"
import { selectedPath, type CandidatePath } from "./candidate-path.js"
import { DEFAULT_FRAME_BYTES, encodeMessage, frameBytesFor, negotiationFrame, pingFrame, Reassembler, type OutFrame } from "./framing.js"
import { candidateTypesIn, expectedCandidateTypes, holdsExpected } from "./gathering.js"
import { Negotiator } from "./negotiation.js"
import type { Tuning } from "./tuning.js"

/** Label of the one data channel; it is pre-negotiated with this id so neither side waits for `datachannel`. */
export const CHANNEL_LABEL = "skygit"
/** Stream id of the pre-negotiated data channel. */
export const CHANNEL_ID = 0

/** Where a connection reports to; both are called synchronously, in order. */
export interface ConnectionHooks {
  readonly onState: (state: ChannelState) => void
  readonly onIncoming: (incoming: Incoming) => void
  /** The offering side made an ICE restart offer (attempt `restartAttempt(attempt, n)`); it must reach the peer out of band. */
  readonly onRestartOffer: (attempt: string, description: Description) => void
}

/** Everything needed to build one connection. */
export interface ConnectionParams {
  readonly rtc: { new (config?: RTCConfiguration): RTCPeerConnection }
  readonly config: RTCConfiguration
  readonly identity: SessionIdentity
  readonly remote: RemotePeer
  readonly attempt: string
  readonly polite: boolean
  readonly tuning: Tuning
  readonly hooks: ConnectionHooks
}

/** Flow-control figures of one channel, for tests and benchmarks. */
export interface ChannelStats {
  readonly bufferedAmount: number
  readonly maxBufferedAmount: number
  readonly pendingMessages: number
  /** Largest frame this side sends on the channel (from the connection's `maxMessageSize`). */
  readonly frameBytes: number
}

const isTerminal = (s: ChannelState): boolean => s === "closed" || s === "failed"
/** Whether the channel carries sends: open, or restarting (SCTP holds them until the path is back). */
const isLive = (s: ChannelState): boolean => s === "open" || s === "restarting"
const iceLost = (s: RTCIceConnectionState): boolean => s === "disconnected" || s === "failed"

/** One connection attempt to one peer. */
export class PeerConnection {
  readonly pc: RTCPeerConnection
  readonly channel: RTCDataChannel
  /** The description this side produced, kept so a repeated call for the same attempt gets the same one. */
  localDescription: Description | undefined
  private stateNow: ChannelState = "connecting"
  private lastSeen = Date.now()
  private lastPingAt = 0
  private openedAt = Date.now()
  /** Upper bound of the channel's bufferedAmount: last value read plus bytes sent since. */
  private knownBuffered = 0
  /** Largest value the bound took: the channel's buffer never held more. */
  private maxBuffered = 0
  private nextMessageId = 1
  /** Frame size for sends, set when the channel opens from what the connection negotiated. */
  private frameBytes = DEFAULT_FRAME_BYTES
  private readonly rejections: Array<number> = []
  private readonly reassembler = new Reassembler()
  private readonly negotiator: Negotiator
  private readonly sendLock = Effect.unsafeMakeSemaphore(1)
  private timer: Fiber.RuntimeFiber<unknown> | undefined
  /** When ICE last went from connected to disconnected or failed on the open channel; undefined while connected. */
  private iceLostAt: number | undefined
  /** ICE restarts offered (offering side) so far: the next one's number. */
  private restartSeq = 0
  /** The restart offer waiting for its answer (offering side). */
  private pendingRestart: string | undefined
  /** The last restart answered (answering side), so a repeated offer gets the same answer. */
  private answeredRestart: { readonly attempt: string; readonly answer: Description } | undefined
  /** Whether this side applied the current restart's answer (offering) or offer (answering). */
  private restartApplied = false
  /** ICE restarts that brought the path back. */
  private restored = 0

  constructor(
    readonly params: ConnectionParams,
    private readonly runtime: Runtime.Runtime<never>
  ) {
    this.pc = new params.rtc({ ...params.config, certificates: [...params.identity.certificates] })
    this.channel = this.pc.createDataChannel(CHANNEL_LABEL, { negotiated: true, id: CHANNEL_ID, ordered: true })
    this.channel.binaryType = "arraybuffer"
    this.negotiator = new Negotiator({ pc: this.pc, polite: params.polite, sendControl: (json) => this.sendControl(json) })
    this.channel.onopen = () => this.onOpen()
    this.channel.onclose = () => this.close("closed")
    this.channel.onmessage = (e: MessageEvent) => this.receive(e.data)
    this.pc.onconnectionstatechange = () => {
      // A lost path on an open channel is the restart's to repair, within its timeout (watchdog).
      if (this.pc.connectionState === "failed" && this.iceLostAt === undefined) this.close("failed")
      else if (this.pc.connectionState === "closed") this.close("closed")
    }
    this.pc.oniceconnectionstatechange = () => this.onIceState()
    this.timer = Runtime.runFork(this.runtime)(this.watchdog)
  }

  /** The connection's current state. */
  get state(): ChannelState {
    return this.stateNow
  }

  /** ICE restarts that brought this connection's path back. */
  get restarts(): number {
    return this.restored
  }

  /** The network path the connection uses now (its selected candidate pair), if one is selected. */
  path(): Effect.Effect<CandidatePath | undefined> {
    return Effect.tryPromise(() => this.pc.getStats()).pipe(
      Effect.map(selectedPath),
      Effect.orElseSucceed(() => undefined)
    )
  }

  /** Flow-control figures of the channel. */
  get stats(): ChannelStats {
    return { bufferedAmount: this.channel.bufferedAmount, maxBufferedAmount: this.maxBuffered, pendingMessages: this.reassembler.pendingCount, frameBytes: this.frameBytes }
  }

  /** Creates the complete offer (candidates gathered, bounded by the tuning's timeout). */
  createOffer(): Effect.Effect<Description, TransportError> {
    return this.step("failed", async () => {
      await this.pc.setLocalDescription(await this.pc.createOffer())
    }).pipe(Effect.zipRight(this.completeLocal()))
  }

  /** Applies a remote offer and creates the complete answer. */
  acceptOffer(offer: Description): Effect.Effect<Description, TransportError> {
    return this.step("bad-description", () => this.pc.setRemoteDescription(offer)).pipe(
      Effect.zipRight(this.step("failed", async () => this.pc.setLocalDescription(await this.pc.createAnswer()))),
      Effect.zipRight(this.completeLocal())
    )
  }

  /** Applies the remote answer to our offer; a repeated answer is a no-op. */
  acceptAnswer(answer: Description): Effect.Effect<void, TransportError> {
    return Effect.suspend(() =>
      this.pc.signalingState !== "have-local-offer" && this.pc.currentRemoteDescription !== null
        ? Effect.void
        : this.step("bad-description", () => this.pc.setRemoteDescription(answer))
    )
  }

  /**
   * Answers an ICE restart offer (attempt `restartAttempt(this attempt, n)`) on this open
   * connection: same DTLS and SCTP, new ICE credentials and candidates. A repeated offer of the
   * same restart (read again from presence) gets the same answer.
   */
  answerRestart(attempt: string, offer: Description): Effect.Effect<Description, TransportError> {
    return Effect.suspend(() => {
      if (this.answeredRestart?.attempt === attempt) return Effect.succeed(this.answeredRestart.answer)
      if (!isLive(this.stateNow)) return Effect.fail(this.error("no-connection", "an ICE restart of a connection that is not open"))
      const current = this.pc.remoteDescription === null ? undefined : dtlsFingerprint(this.pc.remoteDescription.sdp)
      if (current === undefined || dtlsFingerprint(offer.sdp) !== current) {
        return Effect.fail(this.error("fingerprint-mismatch", "an ICE restart offer must keep the connection's DTLS fingerprint"))
      }
      this.enterRestart()
      return this.step("bad-description", async () => {
        // A call's renegotiation in flight gives way: the path comes first.
        if (this.pc.signalingState === "have-local-offer") await this.pc.setLocalDescription({ type: "rollback" })
        await this.pc.setRemoteDescription(offer)
        await this.pc.setLocalDescription(await this.pc.createAnswer())
        this.restartApplied = true
      }).pipe(
        Effect.zipRight(this.gathered()),
        Effect.tap((answer) => Effect.sync(() => (this.answeredRestart = { attempt, answer })))
      )
    })
  }

  /** Applies the answer to this side's ICE restart offer; an answer to another restart is ignored. */
  completeRestart(attempt: string, answer: Description): Effect.Effect<void, TransportError> {
    return Effect.suspend(() => {
      if (attempt !== this.pendingRestart || this.pc.signalingState !== "have-local-offer") return Effect.void
      this.pendingRestart = undefined
      return this.step("bad-description", async () => {
        await this.pc.setRemoteDescription(answer)
        this.restartApplied = true
      })
    })
  }

  /** Sends one encoded envelope, waiting while the channel's buffer is above the high-water mark. */
  send(text: string): Effect.Effect<void, TransportError> {
    return Effect.suspend(() => {
      const frames = encodeMessage(text, this.nextMessageId++, this.frameBytes)
      if (Either.isLeft(frames)) return Effect.fail(this.error("oversized", frames.left))
      // One message's chunks go out back to back: the receiver expects them in order.
      return this.sendLock.withPermits(1)(this.sendFrames(frames.right))
    })
  }

  /** Puts one raw frame on the channel (tests use it to play a misbehaving peer). */
  sendRaw(frame: OutFrame): Effect.Effect<void, TransportError> {
    return this.sendLock.withPermits(1)(this.sendFrames([frame]))
  }

  /** Closes the connection and reports `state`; later calls do nothing. */
  close(state: "closed" | "failed"): void {
    if (isTerminal(this.stateNow)) return
    this.stateNow = state
    if (this.timer !== undefined) Runtime.runFork(this.runtime)(Fiber.interruptFork(this.timer))
    this.timer = undefined
    try {
      this.channel.close()
      this.pc.close()
    } catch {
      // Closing an already torn-down native object may throw; it is closed either way.
    }
    this.params.hooks.onState(state)
  }

  /** Handles one frame as if the channel had delivered it. */
  receive(data: unknown): void {
    if (isTerminal(this.stateNow)) return
    this.lastSeen = Date.now()
    const received = this.reassembler.receive(data)
    switch (received._tag) {
      case "Message": {
        const accepted = acceptFrame(this.params.remote.peer, received.text)
        if (Either.isRight(accepted)) this.params.hooks.onIncoming({ _tag: "Envelope", peer: this.params.remote.peer, envelope: accepted.right })
        else this.reject(accepted.left)
        return
      }
      case "Rejected":
        return this.reject(received.error)
      case "Negotiation":
        Runtime.runFork(this.runtime)(
          this.negotiator.receive(received.json).pipe(
            Effect.catchAll((detail) => Effect.sync(() => this.reject(new EnvelopeRejected({ reason: "malformed", detail }))))
          )
        )
        return
      case "Ping":
      case "Partial":
        return
    }
  }

  private reject(error: EnvelopeRejected): void {
    this.params.hooks.onIncoming({ _tag: "Rejected", peer: this.params.remote.peer, error })
    const now = Date.now()
    this.rejections.push(now)
    while ((this.rejections[0] ?? now) < now - this.params.tuning.rejectionWindowMs) this.rejections.shift()
    if (this.rejections.length > this.params.tuning.maxRejectionsPerWindow) this.close("failed")
  }

  private onOpen(): void {
    if (this.stateNow !== "connecting") return
    this.lastSeen = Date.now()
    this.stateNow = "open"
    // Known once SCTP is up: the largest message the remote side takes (absent on old stacks).
    this.frameBytes = frameBytesFor((this.pc as { sctp?: { maxMessageSize?: number } | null }).sctp?.maxMessageSize)
    this.pc.onnegotiationneeded = () => Runtime.runFork(this.runtime)(this.negotiator.onNegotiationNeeded)
    this.pc.onicecandidate = (e: RTCPeerConnectionIceEvent) => {
      // A restart's candidates travel in its complete description: the channel has no path now.
      if (this.stateNow === "open") this.negotiator.onLocalCandidate(e.candidate)
    }
    this.params.hooks.onState("open")
  }

  private sendControl(json: string): boolean {
    const frame = negotiationFrame(json)
    if (frame === undefined || this.channel.readyState !== "open") return false
    try {
      this.channel.send(frame)
      this.knownBuffered += frame.byteLength
      return true
    } catch {
      return false
    }
  }

  /**
   * Puts `frames` on the channel in order. Frames go out in one synchronous loop while the
   * buffer has room (no fiber step per frame); when the next frame would pass the high-water
   * mark, the sender polls `bufferedAmount` and resumes once it has drained below the low one.
   */
  private sendFrames(frames: ReadonlyArray<OutFrame>): Effect.Effect<void, TransportError> {
    const { highWaterMark, lowWaterMark, bufferPollMs } = this.params.tuning
    let next = 0
    const burst = (limit: number): Effect.Effect<void, TransportError> =>
      Effect.suspend(() => {
        for (; next < frames.length; next++) {
          if (!isLive(this.stateNow)) return Effect.fail(this.error("no-connection", "channel closed while sending"))
          const frame = frames[next]!
          // An upper bound of a text frame's UTF-8 size is enough: it only makes the wait a little earlier.
          const size = typeof frame === "string" ? Math.min(frame.length * 3, this.frameBytes) : frame.byteLength
          if (!this.hasRoom(size, limit)) return Effect.sleep(bufferPollMs).pipe(Effect.zipRight(burst(lowWaterMark)))
          // Below the low mark again: fill up to the high one before the next wait.
          limit = highWaterMark
          try {
            this.channel.send(frame as string & Uint8Array<ArrayBuffer>)
          } catch (e) {
            return Effect.fail(this.error("no-connection", `send failed: ${String(e)}`))
          }
          this.knownBuffered += size
          this.maxBuffered = Math.max(this.maxBuffered, this.knownBuffered)
        }
        return Effect.void
      })
    return burst(highWaterMark)
  }

  /** Whether `size` more bytes keep the channel's buffer at or under `limit`. */
  private hasRoom(size: number, limit: number): boolean {
    if (this.knownBuffered + size <= limit) return true
    // Reading bufferedAmount is a blocking call into the native thread: only when the bound says so.
    this.knownBuffered = this.channel.bufferedAmount
    return this.knownBuffered + size <= limit
  }

  /**
   * Pings while open, fails a silent or never-opening connection, and restarts ICE when the
   * path has been lost past the grace (then only the restart's timeout fails the connection).
   * Silence counts only while this side runs: after a stall of its own (a starved CPU, a frozen
   * tab, a machine asleep) the peer's frames of that time may still be queued behind this timer,
   * and the peer may have stalled with it, so a late tick moves the clocks on by the stall instead
   * of declaring a live path lost.
   */
  private get watchdog(): Effect.Effect<void> {
    const { keepaliveIntervalMs, livenessTimeoutMs, connectTimeoutMs, highWaterMark, iceRestartTimeoutMs } = this.params.tuning
    const tickMs = Math.min(keepaliveIntervalMs, this.params.tuning.iceRestartGraceMs)
    let lastTickAt = Date.now()
    const tick = Effect.sync(() => {
      const now = Date.now()
      const stalled = now - lastTickAt - tickMs
      lastTickAt = now
      if (stalled > keepaliveIntervalMs) {
        this.lastSeen += stalled
        this.openedAt += stalled
        if (this.iceLostAt !== undefined) this.iceLostAt += stalled
      }
      if (this.stateNow === "connecting" && now - this.openedAt > connectTimeoutMs) return this.close("failed")
      // Silence past the liveness timeout is a lost path too, whatever ICE says (it notices late).
      if (this.stateNow === "open" && this.iceLostAt === undefined && now - this.lastSeen > livenessTimeoutMs) this.iceLostAt = this.lastSeen
      if (this.iceLostAt !== undefined && isLive(this.stateNow)) {
        if (now - this.iceLostAt > iceRestartTimeoutMs) return this.close("failed")
        this.considerRestart(now)
        // ICE may come back without a state change event (it never said "disconnected").
        if (this.restartApplied) this.onIceState()
      }
      if (isLive(this.stateNow) && now - this.lastPingAt >= keepaliveIntervalMs && this.channel.bufferedAmount < highWaterMark) {
        this.lastPingAt = now
        this.sendControlFrame(pingFrame())
      }
    })
    return tick.pipe(Effect.repeat(Schedule.spaced(tickMs)), Effect.asVoid)
  }

  /** Follows ICE on a live channel: notes when its path is lost, and when it is back. */
  private onIceState(): void {
    if (!isLive(this.stateNow)) return
    const ice = this.pc.iceConnectionState
    if (iceLost(ice)) {
      this.iceLostAt ??= Date.now()
      this.considerRestart(Date.now())
    } else if ((ice === "connected" || ice === "completed") && this.iceLostAt !== undefined && (this.stateNow === "open" || this.restartApplied)) {
      this.iceLostAt = undefined
      this.lastSeen = Date.now()
      if (this.stateNow === "restarting") {
        this.restored += 1
        this.stateNow = "open"
        this.params.hooks.onState("open")
      }
    }
  }

  /** Past the grace, the channel is "restarting"; the offering side makes the restart's offer. */
  private considerRestart(now: number): void {
    if (this.iceLostAt === undefined || this.stateNow !== "open" || now - this.iceLostAt < this.params.tuning.iceRestartGraceMs) return
    this.enterRestart()
    if (this.params.polite) return
    const attempt = restartAttempt(this.params.attempt, ++this.restartSeq)
    this.pendingRestart = attempt
    Runtime.runFork(this.runtime)(
      this.step("failed", async () => {
        await this.pc.setLocalDescription(await this.pc.createOffer({ iceRestart: true }))
      }).pipe(
        Effect.zipRight(this.gathered()),
        Effect.match({
          // Without an offer nothing can repair the path: the restart's timeout fails the connection.
          onFailure: () => undefined,
          onSuccess: (offer) => {
            if (this.pendingRestart === attempt && this.stateNow === "restarting") this.params.hooks.onRestartOffer(attempt, offer)
          }
        })
      )
    )
  }

  /** Marks the channel "restarting" (once) and reports it. */
  private enterRestart(): void {
    this.iceLostAt ??= Date.now()
    if (this.stateNow !== "open") return
    this.restartApplied = false
    this.stateNow = "restarting"
    this.params.hooks.onState("restarting")
  }

  private sendControlFrame(frame: Uint8Array<ArrayBuffer>): void {
    try {
      this.channel.send(frame)
      this.knownBuffered += frame.byteLength
    } catch {
      // A channel that cannot take a ping is caught by the liveness check.
    }
  }

  private completeLocal(): Effect.Effect<Description, TransportError> {
    return this.gathered().pipe(Effect.tap((description) => Effect.sync(() => (this.localDescription = description))))
  }

  /**
   * The local description once ICE gathering completed, or once it holds every candidate type its
   * servers can give (and a short settle passed), or at the timeout; with this session's proof added.
   */
  private gathered(): Effect.Effect<Description, TransportError> {
    const { pc } = this
    const expected = expectedCandidateTypes(this.params.config)
    const { iceGatherSettleMs } = this.params.tuning
    const gathered = Effect.async<void>((resume) => {
      let settle: ReturnType<typeof setTimeout> | undefined
      // Listeners and the settle timer go when the wait ends, however it ends.
      const release = () => {
        clearTimeout(settle)
        pc.removeEventListener("icegatheringstatechange", check)
        pc.removeEventListener("icecandidate", check)
      }
      const done = () => {
        release()
        resume(Effect.void)
      }
      const check = () => {
        if (pc.iceGatheringState === "complete") done()
        else if (settle === undefined && holdsExpected(expected, candidateTypesIn(pc.localDescription?.sdp ?? ""))) {
          settle = setTimeout(done, iceGatherSettleMs)
        }
      }
      pc.addEventListener("icegatheringstatechange", check)
      pc.addEventListener("icecandidate", check)
      check()
      return Effect.sync(release)
    })
    return gathered.pipe(
      // Past the timeout the SDP goes out with the candidates found so far.
      Effect.timeout(this.params.tuning.iceGatherTimeoutMs),
      Effect.ignore,
      Effect.zipRight(
        Effect.suspend(() => {
          const local = pc.localDescription
          if (local === null || isTerminal(this.stateNow)) return Effect.fail(this.error("failed", "connection closed before its description was ready"))
          return this.params.identity.decorate(local.sdp)
        })
      ),
      Effect.map((sdp): Description => ({ type: pc.localDescription?.type === "answer" ? "answer" : "offer", sdp }))
    )
  }

  private step(reason: TransportError["reason"], run: () => Promise<void>): Effect.Effect<void, TransportError> {
    return Effect.tryPromise({ try: run, catch: (e) => this.error(reason, String(e)) })
  }

  private error(reason: TransportError["reason"], detail: string): TransportError {
    return new TransportError({ peer: this.params.remote.peer, reason, detail })
  }
}
