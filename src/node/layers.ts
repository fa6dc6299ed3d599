/**
 * The four ports of a headless Node peer: GitHub presence and conversation repository
 * (one client, so both share the user's budget), the WebRTC transport on @roamhq/wrtc,
 * and the durable file store. The username comes from the token (`GET /user`), never
 * from the command line: on GitHub a session is whoever its token says it is.
 */
import { Context, Data, Effect, type Scope } from "effect"
import { makeGitHubClient, type GitHubClient } from "../adapters/github/client.js"
import { makeGitHubConversationRepo } from "../adapters/github/conversation-repo.js"
import { makeGitHubDiscussionPresence } from "../adapters/github/discussion-presence.js"
import { makeGitHubFilePresence } from "../adapters/github/file-presence.js"
import { makeFileStore } from "../adapters/storage/file-store.js"
import { nodeRtc } from "../adapters/webrtc/node.js"
import { makeWebRtcTransport, type WebRtcInternalsService } from "../adapters/webrtc/transport.js"
import { makePeerId, type PeerId } from "../domain/identity.js"
import { ConversationRepo } from "../ports/ConversationRepo.js"
import { LocalStore } from "../ports/LocalStore.js"
import { PeerTransport, type PeerTransportService } from "../ports/PeerTransport.js"
import { Presence } from "../ports/Presence.js"
import { SignalSealer } from "../ports/SignalSealer.js"
import { makeWebCryptoSealer } from "../adapters/crypto/webcrypto-sealer.js"
import { defaultDataDir, type NodePeerOptions } from "./options.js"

/** The User-Agent GitHub asks every client to send. */
export const USER_AGENT = "skygit-node-peer"

/** The peer could not be set up: bad token or repository, store or transport failure. */
export class NodePeerError extends Data.TaggedError("NodePeerError")<{ readonly detail: string }> {}

/** The services of one Node peer, and what the terminal and benchmark need besides. */
export interface NodeServices {
  readonly self: PeerId
  readonly context: Context.Context<Presence | ConversationRepo | LocalStore | PeerTransport | SignalSealer>
  readonly transport: PeerTransportService
  readonly internals: WebRtcInternalsService
  readonly client: GitHubClient
  readonly dataDir: string
}

const setup = (what: string) => (e: unknown) =>
  new NodePeerError({ detail: `${what}: ${typeof e === "object" && e !== null && "detail" in e ? String(e.detail) : typeof e === "object" && e !== null && "message" in e ? String(e.message) : String(e)}` })

/** Asks GitHub whose token this is. */
const whoAmI = (client: GitHubClient): Effect.Effect<string, NodePeerError> =>
  client.request("GET /user").pipe(
    Effect.mapError(setup("the token was refused")),
    Effect.flatMap((r) => {
      const login = (r.data as { login?: unknown } | undefined)?.login
      return typeof login === "string" ? Effect.succeed(login) : Effect.fail(new NodePeerError({ detail: "GET /user answered without a login" }))
    })
  )

/** Builds every port of a Node peer; connections and the store close with the scope. */
export const makeNodeServices = (options: NodePeerOptions): Effect.Effect<NodeServices, NodePeerError, Scope.Scope> =>
  Effect.gen(function* () {
    const [owner, repo] = options.repository.split("/") as [string, string]
    const client = yield* makeGitHubClient({ baseUrl: options.api, token: options.token, userAgent: USER_AGENT, owner, repo })
    const login = yield* whoAmI(client)
    const self = yield* Effect.try({ try: () => makePeerId(login, options.session), catch: setup("not a valid peer id") })
    const branch = options.branch === undefined ? {} : { branch: options.branch }
    const presence = yield* options.presence === "file" ? makeGitHubFilePresence(client, branch) : makeGitHubDiscussionPresence(client)
    const conversations = yield* makeGitHubConversationRepo(client, branch)
    const dataDir = options.dataDir ?? defaultDataDir(options.repository, login)
    const { store } = yield* Effect.mapError(makeFileStore(dataDir), setup(`the local store in ${dataDir} cannot be used (another peer of this user? pass --data)`))
    const { internals, transport } = yield* makeWebRtcTransport({
      self,
      rtc: nodeRtc,
      iceServers: options.iceServers,
      ...(options.relayOnly ? { iceTransportPolicy: "relay" as const } : {})
    }).pipe(Effect.mapError(setup("WebRTC could not start")))
    // Offers, answers and call slots go to the presence channel sealed to their recipient.
    const sealer = yield* makeWebCryptoSealer().pipe(Effect.mapError(setup("signaling cannot be sealed")))
    const context = Context.make(Presence, presence).pipe(
      Context.add(SignalSealer, sealer),
      Context.add(ConversationRepo, conversations),
      Context.add(LocalStore, store),
      Context.add(PeerTransport, transport)
    )
    return { self, context, transport, internals, client, dataDir }
  })
