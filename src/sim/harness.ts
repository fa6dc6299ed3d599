/**
 * A whole mesh in one process: many peers on the in-memory GitHub and the
 * simulated network, each in its own scope, started, stopped and crashed at
 * will. Tests and the simulator CLI drive it under Effect's TestClock.
 */
import { Effect, Exit, Layer, PubSub, Queue, Scope } from "effect"
import { makeConversationRepo } from "../adapters/memory/conversation-repo.js"
import { MemoryGitHub, type MemoryGitHubOptions } from "../adapters/memory/github-world.js"
import { emptyStoreState, makeMemoryStore, type MemoryStoreState } from "../adapters/memory/local-store.js"
import { MemoryNetwork, type NetworkOptions } from "../adapters/memory/network.js"
import { makeDiscussionPresence, makeFilePresence } from "../adapters/memory/presence.js"
import { makePeerId, peerKey, type PeerId } from "../domain/identity.js"
import { startPeer, type PeerHandle } from "../app/peer.js"
import type { PeerConfig } from "../app/config.js"
import type { Message } from "../domain/message.js"
import { ConversationRepo, RepoUnavailable, type ConversationRepoService } from "../ports/ConversationRepo.js"
import { LocalStore } from "../ports/LocalStore.js"
import { PeerTransport } from "../ports/PeerTransport.js"
import { Presence, PresenceUnavailable, type PresenceService } from "../ports/Presence.js"

/** One user's GitHub-facing services. */
export interface UserServices {
  readonly presence: PresenceService
  readonly repo: ConversationRepoService
}

/** Where simulated peers' GitHub traffic goes: the services of one user (each session gets its own). */
export interface GitHubBackend {
  readonly forUser: (user: string) => Effect.Effect<UserServices>
}

/** The in-memory GitHub as a backend. */
export const memoryBackend = (world: MemoryGitHub, form: "file" | "discussion"): GitHubBackend => ({
  forUser: (user) =>
    Effect.sync(() => ({
      presence: form === "file" ? makeFilePresence(world, user) : makeDiscussionPresence(world, user),
      repo: makeConversationRepo(world, user)
    }))
})

/** A running simulated peer. */
export interface SimPeer {
  readonly id: PeerId
  readonly handle: PeerHandle
  readonly store: MemoryStoreState
  readonly power: Power
  readonly scope: Scope.CloseableScope
  /** Ids of the messages this session has shown (its `messages` stream), up to the last `collectDisplayed`. */
  readonly displayed: Set<string>
  /** Brings `displayed` up to date. */
  readonly collectDisplayed: Effect.Effect<void>
}

/** Whether a simulated peer's process runs; `afterCommit` runs once a commit of it has landed (a crash there). */
export interface Power {
  on: boolean
  afterCommit: (() => Effect.Effect<void>) | undefined
}

/** Cuts a service off when its peer's power is off, as a dead process would be. */
const guardPresence = (p: PresenceService, power: Power): PresenceService => {
  const dead = Effect.fail(new PresenceUnavailable({ detail: "this peer has crashed" }))
  return { ...p, publish: (c) => (power.on ? p.publish(c) : dead), read: Effect.suspend(() => (power.on ? p.read : dead)) }
}
const guardRepo = (r: ConversationRepoService, power: Power): ConversationRepoService => {
  const dead = Effect.fail(new RepoUnavailable({ detail: "this peer has crashed" }))
  return {
    head: Effect.suspend(() => (power.on ? r.head : dead)),
    readSince: (t) => (power.on ? r.readSince(t) : dead),
    exitBudget: r.exitBudget,
    writeOnExit: (files) =>
      power.on ? r.writeOnExit(files) : Effect.succeed(Effect.succeed(files.map((f) => ({ _tag: "Refused" as const, path: f.path, detail: "this peer has crashed" })))),
    conversations: Effect.suspend(() => (power.on ? r.conversations : dead)),
    readPage: (c, before) => (power.on ? r.readPage(c, before) : dead),
    commit: (b) =>
      power.on
        ? Effect.flatMap(r.commit(b), (landed) => (power.afterCommit === undefined ? Effect.succeed(landed) : Effect.zipRight(power.afterCommit(), dead)))
        : dead,
    ...(r.canPush === undefined ? {} : { canPush: Effect.suspend(() => (power.on ? r.canPush! : dead)) })
  }
}

/** Options of a simulated mesh. */
export interface MeshOptions {
  readonly presence: "file" | "discussion"
  readonly network?: Partial<NetworkOptions>
  readonly github?: MemoryGitHubOptions
  readonly config?: Partial<PeerConfig>
  /** Another GitHub than the in-memory one (the local hub through the real adapters). */
  readonly backend?: GitHubBackend
}

/** A simulated mesh. */
export class Mesh {
  readonly peers = new Map<string, SimPeer>()
  private sessions = 0

  private constructor(
    readonly world: MemoryGitHub,
    readonly network: MemoryNetwork,
    readonly backend: GitHubBackend,
    readonly options: MeshOptions,
    private readonly scope: Scope.Scope
  ) {}

  /** A mesh whose background work lives as long as the current scope. */
  static make(options: MeshOptions): Effect.Effect<Mesh, never, Scope.Scope> {
    return Effect.gen(function* () {
      const world = new MemoryGitHub(options.github)
      const network = yield* MemoryNetwork.make(options.network)
      const backend = options.backend ?? memoryBackend(world, options.presence)
      const mesh = new Mesh(world, network, backend, options, yield* Effect.scope)
      yield* Effect.addFinalizer(() => mesh.shutdown)
      return mesh
    })
  }

  /** Starts a session of `user` (a new session id each time); `store` carries a device's storage across a restart. */
  start(user: string, store: MemoryStoreState = emptyStoreState(), session?: string): Effect.Effect<SimPeer> {
    return Effect.gen(this, function* () {
      this.sessions += 1
      const id = makePeerId(user, session ?? `s${this.sessions}`)
      const scope = yield* Scope.make()
      const power: Power = { on: true, afterCommit: undefined }
      const transport = yield* Scope.extend(this.network.attach(id), scope)
      const github = yield* this.backend.forUser(user)
      const services = Layer.mergeAll(
        Layer.succeed(Presence, guardPresence(github.presence, power)),
        Layer.succeed(ConversationRepo, guardRepo(github.repo, power)),
        Layer.succeed(LocalStore, makeMemoryStore(store)),
        Layer.succeed(PeerTransport, transport)
      )
      // Subscribed before the peer starts and kept past its end, so nothing it shows is missed.
      const displayedHub = yield* PubSub.unbounded<Message>()
      const subscription = yield* Scope.extend(PubSub.subscribe(displayedHub), this.scope)
      const displayed = new Set<string>()
      const collectDisplayed = Effect.map(Queue.takeAll(subscription), (chunk) => {
        for (const m of chunk) displayed.add(m.id)
      })
      const handle = yield* startPeer({ self: id, config: this.options.config ?? {}, displayed: displayedHub }).pipe(
        Effect.provide(services),
        Scope.extend(scope)
      )
      const peer: SimPeer = { id, handle, store, power, scope, displayed, collectDisplayed }
      this.peers.set(peerKey(id), peer)
      return peer
    })
  }

  /** Closes a peer gracefully: it flushes if it leads, says goodbye and withdraws its presence. */
  stop(peer: SimPeer): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (!this.peers.delete(peerKey(peer.id))) return Effect.void
      return Scope.close(peer.scope, Exit.void)
    })
  }

  /** Kills a peer with no goodbye and no flush; its device storage survives. */
  crash(peer: SimPeer): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (!this.peers.delete(peerKey(peer.id))) return Effect.void
      peer.power.on = false
      return Effect.zipRight(this.network.crash(peer.id), Scope.close(peer.scope, Exit.void))
    })
  }

  /**
   * Everyone leaves, one after another a second apart, leaders last: each leaving
   * non-leader hands what it holds to the leader, which commits on its way out.
   */
  get shutdown(): Effect.Effect<void> {
    return Effect.suspend(() => {
      const order = [...this.running].sort((a, b) => Number(a.handle.state.isLeader) - Number(b.handle.state.isLeader))
      return Effect.forEach(order, (p) => Effect.zipRight(this.stop(p), Effect.sleep("1 second")), { discard: true })
    })
  }

  /** The running peers. */
  get running(): ReadonlyArray<SimPeer> {
    return Array.from(this.peers.values())
  }
}
