/**
 * The whole-mesh simulation behind `npm run sim`: N peers on the memory adapters
 * (or the local hub through the real GitHub adapters), chatting for M simulated
 * minutes under optional faults, and the figures the Core issue asks for.
 * Deterministic: the same options give the same report, byte for byte.
 */
import { Effect, Random } from "effect"
import { emptyStoreState, type MemoryStoreState } from "../adapters/memory/local-store.js"
import { seededRandom } from "../adapters/memory/network.js"
import { layoutBatch, parseFile } from "../domain/commit-layout.js"
import { peerKey, samePeer } from "../domain/identity.js"
import { ConversationId, makeMessageId, type Message } from "../domain/message.js"
import type { PeerConfig } from "../app/config.js"
import { p50p99 } from "./figures.js"
import { Mesh, type GitHubBackend, type SimPeer } from "./harness.js"
import { sideOf, type FaultEvent } from "./fault-schedule.js"
import { applyChange, emptyDocument, encodeDocument, type PresenceEntry } from "../domain/presence-doc.js"

/** Faults the simulator can inject. */
export type Fault = "crash" | "partition" | "conflict" | "ratelimit"

/** What to simulate. */
export interface SimOptions {
  readonly peers: number
  readonly minutes: number
  readonly presence: "file" | "discussion"
  readonly seed: number
  readonly history: number
  readonly faults: ReadonlyArray<Fault>
  /** Fault events with their own timing (the soak's random schedules), besides `faults`. */
  readonly schedule?: ReadonlyArray<FaultEvent>
  /** Sessions left in presence by tabs that went away without a goodbye, before anyone comes. */
  readonly stale?: number
  readonly config?: Partial<PeerConfig>
  /** Another GitHub than the in-memory one (figures then come from `stats`). */
  readonly backend?: GitHubBackend
  /**
   * Where the report's GitHub counters and committed history come from when `backend` is
   * not the memory world (the hub: its stats and its branch's history). Read once everyone left.
   */
  readonly figures?: Effect.Effect<GitHubFigures>
}

/** What a GitHub backend reached, for the report. */
export interface GitHubFigures {
  /** Counters of every simulated user. */
  readonly users: ReadonlyArray<{ readonly requests: number; readonly notModified: number; readonly writes: number; readonly conflicts: number; readonly rateLimited: number }>
  /** Conversation commits of the run on SkyGit's branch, oldest first: when each landed and the files it wrote. */
  readonly commits: ReadonlyArray<{ readonly at: number; readonly files: ReadonlyArray<{ readonly path: string; readonly content: string }> }>
  /** Commits the presence file took. */
  readonly presenceWrites: number
}

/** The simulator's figures (issue: Core, section 6). */
export interface SimReport {
  readonly peers: number
  readonly minutes: number
  readonly presence: "file" | "discussion"
  readonly seed: number
  readonly messagesSent: number
  readonly messagesCommitted: number
  readonly messagesLost: number
  /**
   * (message, user) pairs where a user whose sessions ran when the message was sent or
   * later (for at least `UNSEEN_GRACE_MS` in all) never displayed it: no session of theirs
   * showed it, nor had it in the device's history when it started.
   */
  readonly messagesUnseen: number
  readonly duplicatesCommitted: number
  readonly maxCommitLatencyMs: number
  /**
   * With a fault schedule only: the longest commit wait once the time no running device held
   * the message is taken off. A message that only devices that are off hold cannot be
   * committed by anyone; the soak holds the promise to this figure.
   */
  readonly maxCommitLatencyHeldMs?: number
  readonly leaderChanges: number
  readonly maxSimultaneousLeaders: number
  readonly github: { readonly requests: number; readonly notModified: number; readonly writes: number; readonly conflicts: number; readonly rateLimited: number }
  readonly perPeerPerHour: { readonly requests: number; readonly writes: number }
  readonly repoWritesPerHour: number
  readonly discoveryMs: { readonly p50: number; readonly p99: number }
  readonly fullMeshMs: { readonly p50: number; readonly p99: number }
  readonly commitBytes: { readonly p50: number; readonly max: number }
}

const MINUTE = 60_000
/** Mean time between two messages of one peer. */
const MEAN_MESSAGE_GAP_MS = 2 * MINUTE
/** Peers join over this window at the start. */
const JOIN_WINDOW_MS = 2 * MINUTE
/** Texts the simulated users type: ASCII, accents, emoji and CJK, so UTF-8 is exercised everywhere. */
const TEXTS = ["hello", "on it 👍", "réunion à 15h ?", "コミットしました", "LGTM 🚀", "which branch?", "수고하셨습니다", "ok"]
/** A session must have run this long after a message was sent (or after it started) for the message to count as unseen by it. */
export const UNSEEN_GRACE_MS = 5 * MINUTE
/** How long before the run the stale sessions' entries were last refreshed: past a refresh period, within the expiry. */
const STALE_AGE_MS = 6 * MINUTE
/** Messages per file when pre-filling history. */
const HISTORY_FILE_SIZE = 1_000

interface Session {
  readonly peer: SimPeer
  readonly start: number
  /** Ids in the device's store when the session started (its history view). */
  readonly stored: ReadonlySet<string>
  end: number | undefined
  meshedAt: number | undefined
}

/**
 * The most virtual time a run of `minutes` may take: the run, then everyone's goodbye
 * (a second each, and a closing leader's flush within its own bound). A run past it is
 * stuck (`runVirtual`'s `limitMs`), and fails rather than spinning for ever.
 */
export const simulationLimitMs = (minutes: number): number => (minutes + 30) * MINUTE

/** The login of the i-th simulated user. */
export const userName = (i: number) => `user${String(i).padStart(3, "0")}`

/** Runs one simulation in the current (virtual-time) runtime. */
export const simulate = (options: SimOptions): Effect.Effect<SimReport> =>
  Effect.scoped(
    Effect.gen(function* () {
      const random = seededRandom(options.seed)
      const mesh = yield* Mesh.make({
        presence: options.presence,
        network: { seed: options.seed },
        ...(options.config === undefined ? {} : { config: options.config }),
        ...(options.backend === undefined ? {} : { backend: options.backend })
      })
      const world = mesh.world
      const t0 = yield* Effect.clockWith((c) => c.currentTimeMillis)
      const general = ConversationId.make("general")

      // History already committed before anyone comes online.
      for (let f = 0; f * HISTORY_FILE_SIZE < options.history; f++) {
        const count = Math.min(HISTORY_FILE_SIZE, options.history - f * HISTORY_FILE_SIZE)
        const msgs: Array<Message> = Array.from({ length: count }, (_, i) => ({
          id: makeMessageId("history", t0 - 86_400_000 + f * HISTORY_FILE_SIZE + i, i),
          conversation: general,
          author: userName(0) as Message["author"],
          session: "history" as Message["session"],
          sentAt: t0 - 86_400_000 + f * HISTORY_FILE_SIZE + i,
          text: TEXTS[i % TEXTS.length]!
        }))
        world.appendCommit(userName(0), t0 - 86_400_000 + f, layoutBatch(msgs, t0 - 86_400_000 + f))
      }
      const historyCommits = world.commits.length

      // Tabs that went away without a goodbye a little while ago: their entries linger.
      // Written straight into the channel, so they cost the run nothing themselves.
      const staleEntries = Array.from({ length: options.stale ?? 0 }, (_, i) => ({
        username: userName(i % options.peers) as PresenceEntry["username"],
        sessionId: `stale${i}` as PresenceEntry["sessionId"],
        lastSeen: t0 - STALE_AGE_MS
      }))
      if (staleEntries.length > 0 && options.backend === undefined) {
        const change = { upsert: staleEntries, remove: [], signals: [] }
        if (options.presence === "file") {
          world.writePresenceFile(encodeDocument(applyChange(emptyDocument, change, t0)))
          world.presenceWrites -= 1
        } else {
          for (const user of new Set(staleEntries.map((e) => e.username))) {
            const mine = staleEntries.filter((e) => e.username === user)
            world.putComment(user, encodeDocument(applyChange(emptyDocument, { ...change, upsert: mine }, t0)))
            world.commentEdits -= 1
          }
        }
      }

      const sessions: Array<Session> = []
      const stores = new Map<string, MemoryStoreState>()
      const sent = new Map<string, Message>()
      const ends = t0 + options.minutes * MINUTE
      let maxLeaders = 0
      let leaderChanges = 0
      const wasLeader = new Map<string, boolean>()
      let partitioned = false

      const startUser = (user: string) =>
        Effect.gen(function* () {
          const store = stores.get(user) ?? emptyStoreState()
          stores.set(user, store)
          const stored = new Set<string>([...store.pending.keys(), ...Array.from(store.history.values(), (c) => Array.from(c.keys())).flat()])
          const peer = yield* mesh.start(user, store)
          sessions.push({ peer, stored, start: yield* Effect.clockWith((c) => c.currentTimeMillis), end: undefined, meshedAt: undefined })
          return peer
        })
      const sessionOf = (peer: SimPeer) => sessions.find((s) => s.peer === peer)!
      // Runs `effect` on its own, interruptible whatever region starts it: a crash inside a leader's
      // commit is started from the committer, maybe inside a closing peer's finalizer, and a device
      // that came back from there inherited the uninterruptible region: its fibers could never be
      // interrupted, and crashing it later froze the run (seed 100 of the soak).
      const detached = (effect: Effect.Effect<unknown>) => Effect.asVoid(Effect.forkDaemon(Effect.interruptible(effect)))
      /** The device of `user` comes back (a new session from its store) after `downMs`. */
      const comeBack = (user: string, downMs: number) => detached(Effect.delay(startUser(user), downMs))

      // Joins spread over the first minutes, in a seeded order.
      const joins = Array.from({ length: options.peers }, (_, i) => ({ user: userName(i), at: Math.floor(random() * JOIN_WINDOW_MS) })).sort(
        (a, b) => a.at - b.at || a.user.localeCompare(b.user)
      )
      // Fault plan: times are drawn now so the plan does not depend on what happens.
      const faults = new Set(options.faults)
      const plan: Array<{ at: number; run: () => Effect.Effect<void> }> = []
      const schedule = (at: number, run: () => Effect.Effect<void>) => {
        if (at < options.minutes * MINUTE) plan.push({ at: t0 + at, run })
      }
      for (const j of joins) schedule(j.at, () => Effect.asVoid(startUser(j.user)))
      if (faults.has("crash")) {
        for (let at = 7 * MINUTE; at < options.minutes * MINUTE - 5 * MINUTE; at += 9 * MINUTE + Math.floor(random() * 4 * MINUTE)) {
          const pickLeader = random() < 0.5
          const pick = random()
          const downFor = MINUTE + Math.floor(random() * 2 * MINUTE)
          schedule(at, () =>
            Effect.gen(function* () {
              const running = mesh.running
              if (running.length < 2) return
              const views = yield* Effect.forEach(running, (p) => p.handle.view)
              const leaderIdx = views.findIndex((v) => v.isLeader)
              const victim = running[pickLeader && leaderIdx >= 0 ? leaderIdx : Math.floor(pick * running.length)]!
              sessionOf(victim).end = yield* Effect.clockWith((c) => c.currentTimeMillis)
              yield* mesh.crash(victim)
              yield* comeBack(victim.id.username, downFor)
            })
          )
        }
      }
      if (faults.has("partition")) {
        const at = Math.floor(options.minutes * MINUTE * 0.3)
        schedule(at, () =>
          Effect.suspend(() => {
            partitioned = true
            return mesh.network.partition((p) => (Number(p.username.slice(4)) % 2 === 0 ? 0 : 1))
          })
        )
        schedule(at + 8 * MINUTE, () =>
          Effect.suspend(() => {
            partitioned = false
            return mesh.network.heal
          })
        )
      }
      if (faults.has("conflict")) {
        for (let at = 10 * MINUTE; at < options.minutes * MINUTE; at += 15 * MINUTE) {
          schedule(at, () => Effect.sync(() => void (world.faults.conflicts += 12)))
        }
      }
      if (faults.has("ratelimit")) {
        schedule(Math.floor(options.minutes * MINUTE * 0.6), () =>
          Effect.flatMap(Effect.clockWith((c) => c.currentTimeMillis), (now) => Effect.sync(() => void (world.faults.rateLimitedUntil = now + 5 * MINUTE)))
        )
      }
      if (options.schedule !== undefined) {
        const crashAndReturn = (victim: SimPeer, downMs: number) =>
          Effect.gen(function* () {
            sessionOf(victim).end = yield* Effect.clockWith((c) => c.currentTimeMillis)
            yield* mesh.crash(victim)
            yield* comeBack(victim.id.username, downMs)
          })
        const leaderOrNone = () => mesh.running.find((p) => p.handle.state.leadership.isLeader)
        for (const e of options.schedule) {
          switch (e.kind) {
            case "crash":
              schedule(e.at, () =>
                Effect.suspend(() => {
                  const running = mesh.running
                  if (running.length < 2) return Effect.void
                  const victim = (e.target === "leader" ? leaderOrNone() : undefined) ?? running[Math.floor(e.pick * running.length)]!
                  return crashAndReturn(victim, e.downMs)
                })
              )
              break
            case "crash-in-flush":
              schedule(e.at, () =>
                Effect.sync(() => {
                  const leader = leaderOrNone()
                  if (leader === undefined) return
                  // The commit lands, then the leader dies before it can mark or announce it.
                  leader.power.afterCommit = () => {
                    leader.power.afterCommit = undefined
                    leader.power.on = false
                    return detached(crashAndReturn(leader, e.downMs))
                  }
                })
              )
              break
            case "restart":
              schedule(e.at, () =>
                Effect.gen(function* () {
                  const running = mesh.running
                  if (running.length === 0) return
                  const victim = running[Math.floor(e.pick * running.length)]!
                  sessionOf(victim).end = yield* Effect.clockWith((c) => c.currentTimeMillis)
                  yield* mesh.stop(victim)
                  yield* comeBack(victim.id.username, e.downMs)
                })
              )
              break
            case "partition":
              schedule(e.at, () => Effect.suspend(() => ((partitioned = true), mesh.network.partition((p) => sideOf(e.salt, p.username)))))
              schedule(e.at + e.forMs, () => Effect.suspend(() => ((partitioned = false), mesh.network.heal)))
              break
            case "conflicts":
              schedule(e.at, () => Effect.sync(() => void (world.faults.conflicts += e.count)))
              break
            case "ratelimit":
              schedule(e.at, () =>
                Effect.flatMap(Effect.clockWith((c) => c.currentTimeMillis), (now) =>
                  Effect.sync(() => void (world.faults.rateLimitedUntil = Math.max(world.faults.rateLimitedUntil, now + e.forMs)))
                )
              )
              break
          }
        }
      }
      plan.sort((a, b) => a.at - b.at)

      // With a fault schedule: per uncommitted message, the simulated time no running device held it.
      const heldNowhereMs = new Map<string, number>()
      const uncommitted = new Map<string, Message>()
      let commitsRead = historyCommits
      const noteHolders = () => {
        for (; commitsRead < world.commits.length; commitsRead++)
          for (const f of world.commits[commitsRead]!.files) for (const m of parseFile(f.path, f.content).messages) uncommitted.delete(m.id)
        for (const m of uncommitted.values()) {
          const held = mesh.running.some((p) => {
            const store = stores.get(p.id.username)
            return store !== undefined && (store.pending.has(m.id) || store.history.get(m.conversation)?.has(m.id) === true)
          })
          if (!held) heldNowhereMs.set(m.id, (heldNowhereMs.get(m.id) ?? 0) + 1_000)
        }
      }

      // Each user types at seeded random moments.
      const nextMessageAt = new Map<string, number>()
      const gap = () => Math.floor(-Math.log(1 - random()) * MEAN_MESSAGE_GAP_MS)

      for (let now = t0; now < ends; now += 1_000) {
        while (plan.length > 0 && plan[0]!.at <= now) yield* plan.shift()!.run()
        for (const peer of mesh.running) {
          const key = peer.id.username
          const due = nextMessageAt.get(key) ?? now + gap()
          if (!nextMessageAt.has(key)) nextMessageAt.set(key, due)
          if (due <= now && now < ends - MINUTE) {
            const m = yield* peer.handle.send(general, TEXTS[Math.floor(random() * TEXTS.length)]!)
            sent.set(m.id, m)
            if (options.schedule !== undefined) uncommitted.set(m.id, m)
            nextMessageAt.set(key, now + gap())
          }
        }
        // Sample leadership and full-mesh formation once a simulated second.
        const running = mesh.running
        let leaders = 0
        for (const p of running) {
          const k = peerKey(p.id)
          const leads = p.handle.state.leadership.isLeader
          if (leads) leaders += 1
          if (leads && wasLeader.get(k) !== true) leaderChanges += 1
          wasLeader.set(k, leads)
        }
        maxLeaders = Math.max(maxLeaders, leaders)
        if (options.schedule !== undefined) noteHolders()
        if (!partitioned) {
          for (const s of sessions) {
            if (s.end !== undefined || s.meshedAt !== undefined) continue
            const openToAll = running.every(
              (q) =>
                samePeer(q.id, s.peer.id) ||
                (s.peer.handle.state.links.get(peerKey(q.id))?.state === "open" && q.handle.state.links.get(peerKey(s.peer.id))?.state === "open")
            )
            if (openToAll) s.meshedAt = now
          }
        }
        yield* Effect.sleep(1_000)
      }
      yield* mesh.shutdown
      const end = yield* Effect.clockWith((c) => c.currentTimeMillis)
      for (const s of sessions) s.end ??= end
      yield* Effect.forEach(sessions, (s) => s.peer.collectDisplayed, { discard: true })

      // What reached the repository.
      const source: GitHubFigures =
        options.figures === undefined
          ? { users: Array.from(world.stats.values()), commits: world.commits.slice(historyCommits), presenceWrites: world.presenceWrites }
          : yield* options.figures
      const firstCommit = new Map<string, number>()
      let occurrences = 0
      const commitBytes: Array<number> = []
      for (const c of source.commits) {
        let bytes = 0
        for (const f of c.files) {
          bytes += new TextEncoder().encode(f.content).length
          for (const m of parseFile(f.path, f.content).messages) {
            occurrences += 1
            if (!firstCommit.has(m.id)) firstCommit.set(m.id, c.at)
          }
        }
        commitBytes.push(bytes)
      }
      // Per user (a device and its successive sessions): a session that died inside a
      // partition could not show what the other side said, but the device's next session must.
      let unseen = 0
      const byUser = new Map<string, Array<Session>>()
      for (const s of sessions) byUser.set(s.peer.id.username, [...(byUser.get(s.peer.id.username) ?? []), s])
      for (const m of sent.values()) {
        for (const list of byUser.values()) {
          const ranAfter = list.reduce((n, s) => n + Math.max(0, s.end! - Math.max(s.start, m.sentAt)), 0)
          if (ranAfter < UNSEEN_GRACE_MS) continue
          if (list.some((s) => s.peer.displayed.has(m.id) || s.stored.has(m.id))) continue
          unseen += 1
        }
      }
      let maxLatency = 0
      let maxLatencyHeld = 0
      let lost = 0
      for (const m of sent.values()) {
        const at = firstCommit.get(m.id)
        if (at === undefined) lost += 1
        else {
          maxLatency = Math.max(maxLatency, at - m.sentAt)
          maxLatencyHeld = Math.max(maxLatencyHeld, at - m.sentAt - (heldNowhereMs.get(m.id) ?? 0))
        }
      }

      // Discovery: how long after both were up a session knew of another.
      const discovery: Array<number> = []
      for (const a of sessions) {
        for (const b of sessions) {
          if (a === b || a.peer.id.username === b.peer.id.username) continue
          const from = Math.max(a.start, b.start)
          const until = Math.min(a.end!, b.end!)
          if (until - from < 2 * MINUTE) continue
          const known = a.peer.handle.state.firstKnown.get(peerKey(b.peer.id))
          discovery.push(known === undefined ? until - from : Math.max(0, known - from))
        }
      }
      const meshed = sessions.flatMap((s) => (s.meshedAt === undefined ? [] : [s.meshedAt - s.start]))

      const users = source.users
      const sum = (f: (u: (typeof users)[number]) => number) => users.reduce((n, u) => n + f(u), 0)
      const hours = options.minutes / 60
      const github = {
        requests: sum((u) => u.requests),
        notModified: sum((u) => u.notModified),
        writes: sum((u) => u.writes),
        conflicts: sum((u) => u.conflicts),
        rateLimited: sum((u) => u.rateLimited)
      }
      const conversationCommits = source.commits.length
      const sortedBytes = [...commitBytes].sort((a, b) => a - b)
      return {
        peers: options.peers,
        minutes: options.minutes,
        presence: options.presence,
        seed: options.seed,
        messagesSent: sent.size,
        messagesCommitted: firstCommit.size,
        messagesLost: lost,
        messagesUnseen: unseen,
        duplicatesCommitted: occurrences - firstCommit.size,
        maxCommitLatencyMs: maxLatency,
        ...(options.schedule === undefined ? {} : { maxCommitLatencyHeldMs: maxLatencyHeld }),
        leaderChanges,
        maxSimultaneousLeaders: maxLeaders,
        github,
        perPeerPerHour: {
          requests: Math.round(github.requests / options.peers / hours),
          writes: Math.round((github.writes / options.peers / hours) * 10) / 10
        },
        repoWritesPerHour: Math.round((conversationCommits + source.presenceWrites) / hours),
        discoveryMs: p50p99(discovery),
        fullMeshMs: p50p99(meshed),
        commitBytes: {
          p50: sortedBytes.length === 0 ? 0 : sortedBytes[Math.ceil(sortedBytes.length / 2) - 1]!,
          max: sortedBytes.at(-1) ?? 0
        }
      } satisfies SimReport
    })
  ).pipe(
    // Retry schedules are jittered (presence compare-and-swap, as on GitHub): a seeded Random keeps runs identical.
    Effect.withRandom(Random.make(options.seed))
  )


