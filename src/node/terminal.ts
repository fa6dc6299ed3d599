/**
 * The headless peer's terminal: prints connection and presence changes as they happen,
 * chat as it arrives, and turns each input line into a chat message to `general` or a
 * command (`/who`, `/flush`, `/path PEER`, `/quit`; with `--bench` also `/rtt`, `/bulk`, `/stats`).
 * With `--json` every output line is one JSON object, for tests and the benchmark.
 */
import { Effect, Option, Queue, Stream, type Scope } from "effect"
import { peerKey, type PeerId } from "../domain/identity.js"
import { ConversationId, type Message } from "../domain/message.js"
import type { PeerView } from "../app/peer-state.js"
import type { PeerHandle } from "../app/peer.js"
import type { BenchAgent } from "./bench-agent.js"
import type { NodePeerOptions } from "./options.js"

/** What the terminal needs of a running peer (the Node room's `RunningPeer` is one). */
export interface TerminalPeer {
  readonly self: PeerId
  readonly transport: { readonly fingerprint: string }
  readonly internals: {
    readonly connectionCount: Effect.Effect<number>
    /** The selected candidate pair of the connection to a peer, its attempt and ICE restarts (the WebRTC internals' `path`). */
    readonly path: (peer: PeerId) => Effect.Effect<Option.Option<PathReport>>
  }
  readonly handle: PeerHandle
  readonly startedAt: number
  readonly dataDir: string
  readonly bench: BenchAgent | undefined
}

/** What `/path` prints: the network path of one connection. */
export interface PathReport {
  readonly local: { readonly candidateType: string; readonly address: string; readonly port: number }
  readonly remote: { readonly candidateType: string; readonly address: string; readonly port: number }
  readonly attempt: string
  readonly iceRestarts: number
}

/** The conversation plain input lines go to. */
export const DEFAULT_CONVERSATION = ConversationId.make("general")

/** Where the terminal reads and writes. */
export interface TerminalIo {
  /** Input lines; the stream ends at end of input. */
  readonly lines: Stream.Stream<string>
  /** Writes one output line. */
  readonly write: (line: string) => void
  /** A status line for people (stderr in the CLI). */
  readonly status: (line: string) => void
}

/**
 * Text from other peers made safe for a terminal: control characters (escape sequences that
 * move the cursor, recolour or retitle, a carriage return or newline that forges another line)
 * become a visible U+FFFD, in both human and JSON output.
 */
export const printable = (text: string): string =>
  // eslint-disable-next-line no-control-regex
  text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, "\ufffd")

const summary = (view: PeerView) => ({
  links: view.links.map((l) => ({ peer: peerKey(l.peer), state: l.state })).sort((a, b) => (a.peer < b.peer ? -1 : 1)),
  online: view.online.map(peerKey).sort(),
  leader: view.leader === undefined ? null : peerKey(view.leader),
  isLeader: view.isLeader,
  presenceProblem: view.presenceProblem ?? null,
  rateNotice: view.rateNotice?.detail ?? null,
  refused: view.refused,
  /** `claimed` (file form): other sessions' logins are unverified claims. */
  identities: view.identities
})

/**
 * Another session's name for people: with "(unverified)" when logins are claims (file form:
 * nothing GitHub vouches for ties a presence entry to its login), as the web client tags it.
 */
export const claimedLabel = (name: string, identities: PeerView["identities"]): string =>
  identities === "claimed" ? `${name} (unverified)` : name

const messageJson = (m: Message, self: PeerId, identities: PeerView["identities"]) => ({
  id: m.id,
  conversation: m.conversation,
  author: m.author,
  session: m.session,
  sentAt: m.sentAt,
  text: printable(m.text),
  own: m.session === self.sessionId,
  /** Whether GitHub vouches for the author's login (Discussion form, or this session's own message). */
  verified: identities === "verified" || m.session === self.sessionId
})

const percentile = (xs: ReadonlyArray<number>, p: number): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0
}

/** Starts printing and reading; `quit` is run on `/quit` or end of input. */
export const startTerminal = (
  peer: TerminalPeer,
  options: NodePeerOptions,
  io: TerminalIo,
  quit: Effect.Effect<unknown>
): Effect.Effect<void, never, Scope.Scope> =>
  Effect.gen(function* () {
    const out = (event: string, data: Record<string, unknown>, text: string) =>
      io.write(options.json ? JSON.stringify({ event, at: Date.now(), ...data }) : text)
    const self = peerKey(peer.self)
    out("ready", { self, fingerprint: peer.transport.fingerprint, startedAt: peer.startedAt, dataDir: peer.dataDir, pid: process.pid }, `joined ${options.repository} as ${self} (store ${peer.dataDir})`)

    const other = (key: string, identities: PeerView["identities"]) => (key === self ? key : claimedLabel(key, identities))
    const describeView = (s: ReturnType<typeof summary>) =>
      [
        `online: ${s.online.length === 0 ? "nobody else" : s.online.map((k) => other(k, s.identities)).join(", ")}`,
        `links: ${s.links.length === 0 ? "none" : s.links.map((l) => `${other(l.peer, s.identities)} ${l.state}`).join(", ")}`,
        `leader: ${s.leader === null ? "none" : other(s.leader, s.identities)}${s.isLeader ? " (this peer)" : ""}`,
        ...(s.presenceProblem === null ? [] : [`presence: ${s.presenceProblem}`]),
        ...(s.rateNotice === null ? [] : [`GitHub: ${s.rateNotice}`]),
        ...(Object.keys(s.refused).length === 0 ? [] : [`refused: ${Object.entries(s.refused).map(([k, n]) => `${k} ${n}`).join(", ")}`])
      ].join("\n")

    let last = ""
    let lastRejectionAt = 0
    // The peer pushes its view (the current one at once, then each change): no polling.
    yield* Effect.forkScoped(
      Stream.runForEach(peer.handle.views, (view) =>
        Effect.sync(() => {
          // Refusals (frames, offers, writes) and this peer's own troubles are what a person debugging a mesh needs to see.
          for (const r of view.rejections.filter((r) => r.at > lastRejectionAt)) {
            if (r.own === true) out("trouble", { about: r.from, reason: printable(r.reason) }, `trouble with ${r.from}: ${printable(r.reason)}`)
            else out("rejected", { from: r.from, reason: printable(r.reason) }, `refused from ${r.from}: ${printable(r.reason)}`)
          }
          lastRejectionAt = Math.max(lastRejectionAt, ...view.rejections.map((r) => r.at))
          const s = summary(view)
          const key = JSON.stringify(s)
          if (key === last) return
          last = key
          out("view", s, describeView(s))
        })
      )
    )

    const identities = (yield* peer.handle.view).identities
    yield* Effect.forkScoped(
      Stream.runForEach(peer.handle.messages, (m) =>
        Effect.sync(() => {
          const json = messageJson(m, peer.self, identities)
          out("message", json, `[${m.conversation}] <${json.verified ? m.author : claimedLabel(m.author, identities)}> ${printable(m.text)}`)
        })
      )
    )

    const target = (key: string | undefined) =>
      Effect.flatMap(peer.handle.view, (view) => Effect.succeed(view.links.find((l) => peerKey(l.peer) === key?.toLowerCase())?.peer))

    const command = (line: string): Effect.Effect<void> =>
      Effect.gen(function* () {
        const [name, ...args] = line.trim().split(/\s+/)
        switch (name) {
          case "/quit":
            return yield* quit
          case "/who": {
            const s = summary(yield* peer.handle.view)
            return out("who", s, describeView(s))
          }
          case "/flush": {
            const report = yield* peer.handle.flushNow
            return out("flushed", { committed: report.committed.length, already: report.alreadyCommitted.length }, `flushed: ${report.committed.length} committed`)
          }
          case "/path": {
            // Which way the packets go (host, srflx, prflx or relay on each side): NAT traversal at a glance.
            const to = yield* target(args[0])
            const path = to === undefined ? Option.none() : yield* peer.internals.path(to)
            if (Option.isNone(path)) return out("error", { line }, `/path: no connection with a selected path to ${args[0] ?? "(name a peer)"}`)
            const p = path.value
            return out(
              "path",
              { peer: args[0]!.toLowerCase(), ...p },
              `${args[0]}: ${p.local.candidateType} ${p.local.address}:${p.local.port} -> ${p.remote.candidateType} ${p.remote.address}:${p.remote.port} (ICE restarts: ${p.iceRestarts})`
            )
          }
          case "/stats": {
            const rss = process.memoryUsage().rss / 1e6
            return out("stats", { rssMB: rss, connections: yield* peer.internals.connectionCount }, `rss ${rss.toFixed(1)} MB`)
          }
          case "/rtt":
          case "/bulk": {
            const to = yield* target(args[0])
            if (peer.bench === undefined || to === undefined) return out("error", { line }, `${name}: needs --bench and a linked peer`)
            if (name === "/rtt") {
              const samples = yield* Effect.either(peer.bench.rtt(to, Number(args[1] ?? 100)))
              if (samples._tag === "Left") return out("error", { line, detail: samples.left.detail }, samples.left.detail)
              return out("rtt", { to: args[0], samples: samples.right }, `rtt p50 ${percentile(samples.right, 50).toFixed(3)} ms`)
            }
            // `/bulk PEER COUNT BYTES [payload|envelope]`: BYTES per payload, or per whole envelope.
            const result = yield* Effect.either(peer.bench.bulk(to, Number(args[1] ?? 100), Number(args[2] ?? 65_536), args[3] === "envelope" ? "envelope" : "payload"))
            if (result._tag === "Left") return out("error", { line, detail: result.left.detail }, result.left.detail)
            return out("bulk", { to: args[0], ...result.right }, `${result.right.mbps.toFixed(1)} MB/s`)
          }
          default:
            return out("error", { line }, `unknown command ${name} (try /who, /flush, /path PEER, /quit)`)
        }
      })

    const onLine = (line: string): Effect.Effect<void> => {
      if (line.trim() === "") return Effect.void
      if (line.startsWith("/")) return command(line)
      return Effect.asVoid(peer.handle.send(DEFAULT_CONVERSATION, line))
    }
    const input = yield* Queue.unbounded<string>()
    yield* Effect.forkScoped(Stream.runForEach(io.lines, (l) => Queue.offer(input, l)).pipe(Effect.zipRight(Queue.offer(input, "/quit"))))
    yield* Effect.forkScoped(Effect.forever(Effect.flatMap(Queue.take(input), onLine)))
  })
