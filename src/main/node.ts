/**
 * The Node room: the only place a headless Node peer's layers are chosen. One GitHub
 * client (so presence and history share the user's budget), presence in the form asked
 * for, the conversation repository, the WebRTC transport on @roamhq/wrtc and the durable
 * file store. The username comes from the token (`GET /user`), never from the command
 * line: on GitHub a session is whoever its token says it is.
 *
 * `runPeer` starts one in the current scope (tests start peers in-process with it);
 * `runPeerCli` adds the terminal and runs until `/quit`, end of input or a signal, then
 * closes the scope, which flushes if this peer leads, says goodbye to the mesh and
 * withdraws its presence entry.
 */
import { Context, Data, Deferred, Effect, Exit, Layer, Scope } from "effect"
import { whoAmI } from "../adapters/github/account.js"
import { GitHub, layerGitHub, type GitHubClient } from "../adapters/github/client.js"
import { layerGitHubConversationRepo } from "../adapters/github/conversation-repo.js"
import { layerGitHubDiscussionPresence } from "../adapters/github/discussion-presence.js"
import { layerGitHubLobbyPresence } from "../adapters/presence-lobby-github.js"
import { layerFileStore } from "../adapters/storage/file-store.js"
import { nodeRtc } from "../adapters/webrtc/node.js"
import { layerWebRtc, WebRtcInternals, type WebRtcInternalsService } from "../adapters/webrtc/transport.js"
import { startPeer, type PeerHandle } from "../app/peer.js"
import { makePeerId, type PeerId } from "../domain/identity.js"
import type { ConversationRepo } from "../ports/ConversationRepo.js"
import type { LocalStore } from "../ports/LocalStore.js"
import { PeerTransport, type PeerTransportService } from "../ports/PeerTransport.js"
import type { Presence } from "../ports/Presence.js"
import { SignalSealer } from "../ports/SignalSealer.js"
import { MessageSigner } from "../ports/MessageSigner.js"
import { makeWebCryptoSigner } from "../adapters/crypto/webcrypto-signer.js"
import { makeWebCryptoSealer } from "../adapters/crypto/webcrypto-sealer.js"
import { startBenchAgent, type BenchAgent } from "../node/bench-agent.js"
import { defaultDataDir, type NodePeerOptions } from "../node/options.js"
import { startTerminal, type TerminalIo } from "../node/terminal.js"

/** The User-Agent GitHub asks every client to send. */
export const USER_AGENT = "skygit-node-peer"

/** The peer could not be set up: bad token or repository, store or transport failure. */
export class NodePeerError extends Data.TaggedError("NodePeerError")<{ readonly detail: string }> {}

/** The services of one Node peer, and what the terminal and benchmark need besides. */
export interface NodeServices {
  readonly self: PeerId
  readonly context: Context.Context<Presence | ConversationRepo | LocalStore | PeerTransport | SignalSealer | MessageSigner>
  readonly transport: PeerTransportService
  readonly internals: WebRtcInternalsService
  readonly client: GitHubClient
  readonly dataDir: string
}

const setup = (what: string) => (e: unknown) =>
  new NodePeerError({ detail: `${what}: ${typeof e === "object" && e !== null && "detail" in e ? String(e.detail) : typeof e === "object" && e !== null && "message" in e ? String(e.message) : String(e)}` })

/** Builds every port of a Node peer; connections and the store close with the scope. */
export const makeNodeServices = (options: NodePeerOptions): Effect.Effect<NodeServices, NodePeerError, Scope.Scope> =>
  Effect.gen(function* () {
    const [owner, repo] = options.repository.split("/") as [string, string]
    const github = yield* Layer.build(layerGitHub({ baseUrl: options.api, token: options.token, userAgent: USER_AGENT, owner, repo }))
    const login = yield* whoAmI.pipe(Effect.provide(github), Effect.mapError(setup("the token was refused")))
    const self = yield* Effect.try({ try: () => makePeerId(login, options.session), catch: setup("not a valid peer id") })
    const branch = options.branch === undefined ? {} : { branch: options.branch }
    const dataDir = options.dataDir ?? defaultDataDir(options.repository, login)
    const gitHubPorts = Layer.merge(
      // File form with the lobby: a user who may not push joins through the presence Discussion.
      options.presence === "file" ? layerGitHubLobbyPresence(branch) : layerGitHubDiscussionPresence,
      layerGitHubConversationRepo(branch)
    ).pipe(Layer.provide(Layer.succeedContext(github)))
    const store = layerFileStore(dataDir).pipe(Layer.mapError(setup(`the local store in ${dataDir} cannot be used (another peer of this user? pass --data)`)))
    const transport = layerWebRtc({
      self,
      rtc: nodeRtc,
      iceServers: options.iceServers,
      ...(options.relayOnly ? { iceTransportPolicy: "relay" as const } : {})
    }).pipe(Layer.mapError(setup("WebRTC could not start")))
    const built = yield* Layer.build(Layer.mergeAll(gitHubPorts, store, transport))
    // Offers, answers and call slots go to the presence channel sealed to their recipient.
    const sealer = yield* makeWebCryptoSealer().pipe(Effect.mapError(setup("signaling cannot be sealed")))
    // Messages are signed, so that anyone may relay them (a crashed author's, a hand-off).
    const signer = yield* makeWebCryptoSigner().pipe(Effect.mapError(setup("messages cannot be signed")))
    const context: NodeServices["context"] = Context.add(Context.add(built, SignalSealer, sealer), MessageSigner, signer)
    return { self, context, transport: Context.get(built, PeerTransport), internals: Context.get(built, WebRtcInternals), client: Context.get(github, GitHub), dataDir }
  })

/** A running Node peer. */
export interface RunningPeer extends NodeServices {
  readonly handle: PeerHandle
  /** Epoch ms when the peer's services started. */
  readonly startedAt: number
  /** Present when started with `bench`. */
  readonly bench: BenchAgent | undefined
}

/** Starts a Node peer in the current scope. */
export const runPeer = (options: NodePeerOptions): Effect.Effect<RunningPeer, NodePeerError, Scope.Scope> =>
  Effect.gen(function* () {
    const services = yield* makeNodeServices(options)
    const startedAt = Date.now()
    const handle = yield* startPeer({ self: services.self, config: options.config }).pipe(Effect.provide(services.context))
    const bench = options.bench ? yield* startBenchAgent(services.self, services.transport) : undefined
    return { ...services, handle, startedAt, bench }
  })

/** Runs a Node peer with its terminal until it is told to stop; resolves once it has left cleanly. */
export const runPeerCli = (options: NodePeerOptions, io: TerminalIo): Effect.Effect<void, NodePeerError> =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const stop = yield* Deferred.make<void>()
    const exit = yield* Effect.exit(
      Effect.gen(function* () {
        const peer = yield* runPeer(options)
        yield* startTerminal(peer, options, io, Deferred.succeed(stop, undefined))
        yield* Deferred.await(stop)
        io.status("leaving: flushing if leader, saying goodbye")
      }).pipe(Scope.extend(scope))
    )
    yield* Scope.close(scope, Exit.void)
    if (Exit.isFailure(exit)) return yield* exit
    io.status("left")
  })
