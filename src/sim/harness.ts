/**
 * A whole mesh in one process: many peers on the in-memory GitHub and the
 * simulated network, each in its own scope, started, stopped and crashed at
 * will. Tests and the simulator CLI drive it under Effect's TestClock.
 */
import { Effect, Exit, PubSub, Queue, Scope } from "effect"
import { MemoryGitHub, type MemoryGitHubOptions } from "../adapters/memory/github-world.js"
import { emptyStoreState, type MemoryStoreState } from "../adapters/memory/local-store.js"
import { MemoryNetwork, type NetworkOptions } from "../adapters/memory/network.js"
import { makePeerId, peerKey, type PeerId } from "../domain/identity.js"
import { startPeer, type PeerHandle } from "../app/peer.js"
import { MemorySigningKeys } from "../adapters/memory/signer.js"
import type { PeerConfig } from "../app/config.js"
import type { Message } from "../domain/message.js"
import { memoryBackend, simPeerLayer, type GitHubBackend, type Power } from "../main/sim.js"

export type { GitHubBackend, UserServices } from "../main/sim.js"

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
  /** The simulated world's signing keys: every session signs its messages (synchronously, see the adapter). */
  readonly signingKeys = new MemorySigningKeys()
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
      const services = simPeerLayer(github, store, transport, power, this.signingKeys.signerFor(id.username, id.sessionId))
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
      const order = [...this.running].sort((a, b) => Number(a.handle.state.leadership.isLeader) - Number(b.handle.state.leadership.isLeader))
      return Effect.forEach(order, (p) => Effect.zipRight(this.stop(p), Effect.sleep("1 second")), { discard: true })
    })
  }

  /** The running peers. */
  get running(): ReadonlyArray<SimPeer> {
    return Array.from(this.peers.values())
  }
}
