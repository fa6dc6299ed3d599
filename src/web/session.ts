/**
 * One signed-in session in the page: the app's services (startPeer, makeCalls) on browser
 * layers, mirroring `src/node/layers.ts`: one GitHub client for presence and history (so
 * both share the user's budget), WebRTC on the page's RTCPeerConnection, media from the
 * page's devices, and the durable store in IndexedDB. The username comes from the token.
 */
import { Data, Effect, Exit, Scope } from "effect"
import { makeGitHubClient } from "../adapters/github/client.js"
import { makeGitHubConversationRepo } from "../adapters/github/conversation-repo.js"
import { makeGitHubDiscussionPresence } from "../adapters/github/discussion-presence.js"
import { makeGitHubFilePresence } from "../adapters/github/file-presence.js"
import { makeGitHubRepoSettings } from "../adapters/github/repo-settings.js"
import { settleForm } from "../app/presence-form.js"
import type { RecordedSettings, RepoSettingsService } from "../ports/RepoSettings.js"
import { makeBrowserMedia } from "../adapters/media/browser.js"
import { makeIndexedDbStore } from "../adapters/storage/indexeddb.js"
import { browserRtc } from "../adapters/webrtc/browser.js"
import { makeWebRtcTransport, type WebRtcInternalsService } from "../adapters/webrtc/transport.js"
import { makeCalls, type CallsService } from "../app/calls.js"
import type { PeerConfig } from "../app/config.js"
import { startPeer, type PeerHandle } from "../app/peer.js"
import { makePeerId, type PeerId } from "../domain/identity.js"
import { ConversationRepo } from "../ports/ConversationRepo.js"
import { LocalStore } from "../ports/LocalStore.js"
import { Media } from "../ports/Media.js"
import { PeerTransport } from "../ports/PeerTransport.js"
import { Presence } from "../ports/Presence.js"
import { SignalSealer } from "../ports/SignalSealer.js"
import { makeWebCryptoSealer } from "../adapters/crypto/webcrypto-sealer.js"

/** The User-Agent the client announces (browsers may keep their own). */
export const USER_AGENT = "skygit-web"

/** The presence channel's form. */
export type PresenceForm = "file" | "discussion"

/** What a repository records about SkyGit, as the picker shows it before joining. */
export type RecordedLookup =
  | { readonly _tag: "recorded"; readonly recorded: RecordedSettings }
  | { readonly _tag: "none" }
  | { readonly _tag: "problem"; readonly detail: string }

/** Reads which presence form `repository` records (nothing is written). */
export const lookupRecordedForm = async (api: string, token: string, repository: string): Promise<RecordedLookup> => {
  const [owner, repo] = repository.split("/") as [string, string]
  const exit = await Effect.runPromiseExit(
    Effect.gen(function* () {
      const client = yield* makeGitHubClient({ baseUrl: api, token, userAgent: USER_AGENT, owner, repo })
      const settings = yield* makeGitHubRepoSettings(client)
      return yield* settings.read
    })
  )
  if (Exit.isSuccess(exit)) return exit.value._tag === "Some" ? { _tag: "recorded", recorded: exit.value.value } : { _tag: "none" }
  return { _tag: "problem", detail: exit.cause._tag === "Fail" ? exit.cause.error.detail : "the repository could not be read" }
}

/** What a session needs. */
export interface SessionOptions {
  readonly api: string
  readonly token: string
  /** The token owner's login, already checked with GET /user. */
  readonly login: string
  /** "owner/name". */
  readonly repository: string
  /** The form this user picked; the repository's recorded form wins when there is one. */
  readonly presence: PresenceForm
  readonly peerConfig: Partial<PeerConfig>
  readonly iceServers: ReadonlyArray<RTCIceServer>
  /** "relay": every connection through TURN, so peers never see this device's address. */
  readonly iceTransportPolicy?: RTCIceTransportPolicy
}

/** The session could not start; `detail` is for people. */
export class SessionError extends Data.TaggedError("SessionError")<{ readonly detail: string }> {}

/** A running session. */
export interface Session {
  readonly self: PeerId
  readonly repository: string
  /** The form joined: the repository's recorded one. */
  readonly presence: PresenceForm
  /** The repository's recorded settings (the form, who chose it, its version) when the session started. */
  readonly recorded: RecordedSettings
  /** True when this user made the repository's first choice. */
  readonly choseForm: boolean
  /** The repository's settings, to watch for a change of form and to make one. */
  readonly settings: RepoSettingsService
  readonly peer: PeerHandle
  readonly calls: CallsService
  readonly internals: WebRtcInternalsService
  /** Leaves: flushes if leading, says goodbye, withdraws the presence entry. */
  readonly close: () => Promise<void>
}

const detailOf = (e: unknown): string =>
  typeof e === "object" && e !== null && "detail" in e ? String(e.detail) : e instanceof Error ? e.message : String(e)

const setup = (what: string) => (e: unknown) => new SessionError({ detail: `${what}: ${detailOf(e)}` })

/** A random session id per tab, so two tabs of one user are two peers. */
const newSessionId = (): string => `web-${crypto.randomUUID().replace(/-/g, "").slice(0, 12)}`

/** The IndexedDB database of one user in one repository on one API. */
export const storeName = (api: string, repository: string, login: string): string =>
  `skygit:${new URL(api).host}:${repository.toLowerCase()}:${login.toLowerCase()}`

/** Starts a session; it lives until `close`. */
export const startSession = async (options: SessionOptions): Promise<Session> => {
  const scope = Effect.runSync(Scope.make())
  const build = Effect.gen(function* () {
    const [owner, repo] = options.repository.split("/") as [string, string]
    const self = yield* Effect.try({ try: () => makePeerId(options.login, newSessionId()), catch: setup("not a valid login") })
    const client = yield* makeGitHubClient({ baseUrl: options.api, token: options.token, userAgent: USER_AGENT, owner, repo })
    const settings = yield* makeGitHubRepoSettings(client)
    const settled = yield* settleForm(settings, options.presence, self.username, Date.now()).pipe(
      Effect.mapError(setup("the repository's SkyGit settings could not be read or recorded"))
    )
    const presence = yield* settled.form === "file" ? makeGitHubFilePresence(client) : makeGitHubDiscussionPresence(client)
    const conversations = yield* makeGitHubConversationRepo(client, { apiBase: options.api })
    const { store } = yield* Effect.mapError(
      makeIndexedDbStore(indexedDB, storeName(options.api, options.repository, options.login)),
      setup("the browser's storage cannot be used")
    )
    const { internals, transport } = yield* makeWebRtcTransport({
      self,
      rtc: browserRtc(globalThis),
      iceServers: options.iceServers,
      ...(options.iceTransportPolicy === undefined ? {} : { iceTransportPolicy: options.iceTransportPolicy })
    }).pipe(
      Effect.mapError(setup("WebRTC could not start"))
    )
    const media = yield* makeBrowserMedia(navigator.mediaDevices, internals)
    // Offers, answers and call slots go to the presence channel sealed to their recipient.
    const sealer = yield* makeWebCryptoSealer().pipe(Effect.mapError(setup("signaling cannot be sealed")))
    const peer = yield* startPeer({ self, config: options.peerConfig }).pipe(
      Effect.provideService(Presence, presence),
      Effect.provideService(SignalSealer, sealer),
      Effect.provideService(ConversationRepo, conversations),
      Effect.provideService(LocalStore, store),
      Effect.provideService(PeerTransport, transport)
    )
    // After the peer: call control falls back to its presence channel while no data channel is open.
    const calls = yield* makeCalls({ self, fallback: peer.callFallback }).pipe(
      Effect.provideService(PeerTransport, transport),
      Effect.provideService(Media, media)
    )
    return { self, peer, calls, internals, settings, recorded: settled.recorded, choseForm: settled.choseNow, presence: settled.form }
  })
  const exit = await Effect.runPromiseExit(Scope.extend(build, scope))
  if (Exit.isFailure(exit)) {
    await Effect.runPromise(Scope.close(scope, exit))
    throw exit.cause._tag === "Fail" ? exit.cause.error : new SessionError({ detail: "the session could not start" })
  }
  let closing: Promise<void> | undefined
  return {
    ...exit.value,
    repository: options.repository,
    close: () => (closing ??= Effect.runPromise(Scope.close(scope, Exit.void)))
  }
}
