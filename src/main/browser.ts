/**
 * The browser room: the only place a page's layers are chosen. One GitHub client per
 * session for presence and history (so both share the user's budget), WebRTC on the
 * page's RTCPeerConnection, media from the page's devices, and the durable store in
 * IndexedDB. Sign-in goes through a GitHub client too (budgeted and typed like the rest).
 * The page gets these as `WebServices` (`src/web/services.ts`); the username comes from the token.
 */
import { Data, Effect, Exit, Layer, Scope } from "effect"
import { listRepos, whoAmI } from "../adapters/github/account.js"
import { GitHub, layerGitHub, makeGitHubClient } from "../adapters/github/client.js"
import { layerGitHubConversationRepo } from "../adapters/github/conversation-repo.js"
import { layerGitHubDiscussionPresence } from "../adapters/github/discussion-presence.js"
import { describe, type GitHubFailure } from "../adapters/github/errors.js"
import { layerGitHubLobbyPresence } from "../adapters/presence-lobby-github.js"
import { makeGitHubRepoSettings } from "../adapters/github/repo-settings.js"
import { makeBrowserMedia } from "../adapters/media/browser.js"
import { makeWebCryptoSealer } from "../adapters/crypto/webcrypto-sealer.js"
import { changeForm, settleForm } from "../app/presence-form.js"
import { SignalSealer } from "../ports/SignalSealer.js"
import { MessageSigner } from "../ports/MessageSigner.js"
import { makeWebCryptoSigner } from "../adapters/crypto/webcrypto-signer.js"
import { layerIndexedDbStore } from "../adapters/storage/indexeddb.js"
import { browserRtc } from "../adapters/webrtc/browser.js"
import { layerWebRtc, WebRtcInternals } from "../adapters/webrtc/transport.js"
import { makeCalls } from "../app/calls.js"
import { startPeer } from "../app/peer.js"
import { makePeerId } from "../domain/identity.js"
import { Media } from "../ports/Media.js"
import type { RecordedLookup, Session, SessionOptions, WebServices } from "../web/services.js"

/** The User-Agent the client announces (browsers may keep their own). */
export const USER_AGENT = "skygit-web"

/** The session could not start; `detail` is for people. */
export class SessionError extends Data.TaggedError("SessionError")<{ readonly detail: string }> {}

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
    // One client for everything this session asks of GitHub: settings, presence and history share its budget.
    const github = yield* Layer.build(layerGitHub({ baseUrl: options.api, token: options.token, userAgent: USER_AGENT, owner, repo }))
    const settings = yield* Effect.flatMap(GitHub, makeGitHubRepoSettings).pipe(Effect.provide(github))
    const settled = yield* settleForm(settings, options.presence, self.username, Date.now()).pipe(
      Effect.mapError(setup("the repository's SkyGit settings could not be read or recorded"))
    )
    const gitHubPorts = Layer.merge(settled.form === "file" ? layerGitHubLobbyPresence() : layerGitHubDiscussionPresence, layerGitHubConversationRepo({ apiBase: options.api })).pipe(
      Layer.provide(Layer.succeedContext(github))
    )
    const store = layerIndexedDbStore(indexedDB, storeName(options.api, options.repository, options.login)).pipe(
      Layer.mapError(setup("the browser's storage cannot be used"))
    )
    const transport = layerWebRtc({
      self,
      rtc: browserRtc(globalThis),
      iceServers: options.iceServers,
      ...(options.iceTransportPolicy === undefined ? {} : { iceTransportPolicy: options.iceTransportPolicy })
    }).pipe(Layer.mapError(setup("WebRTC could not start")))
    const services = yield* Layer.build(Layer.mergeAll(gitHubPorts, store, transport))
    const media = yield* makeBrowserMedia(navigator.mediaDevices, yield* Effect.provide(WebRtcInternals, services))
    // Offers, answers and call slots go to the presence channel sealed to their recipient.
    const sealer = yield* makeWebCryptoSealer().pipe(Effect.mapError(setup("signaling cannot be sealed")))
    // Messages are signed, so that anyone may relay them (a crashed author's, a hand-off).
    const signer = yield* makeWebCryptoSigner().pipe(Effect.mapError(setup("messages cannot be signed")))
    const peer = yield* startPeer({ self, config: options.peerConfig }).pipe(
      Effect.provide(services),
      Effect.provideService(SignalSealer, sealer),
      Effect.provideService(MessageSigner, signer)
    )
    // After the peer: call control falls back to its presence channel while no data channel is open.
    const calls = yield* makeCalls({ self, fallback: peer.callFallback }).pipe(
      Effect.provide(services),
      Effect.provideService(Media, media)
    )
    return {
      self,
      peer,
      calls,
      nativeTrack: media.nativeTrack,
      settings,
      recorded: settled.recorded,
      choseForm: settled.choseNow,
      presence: settled.form,
      changeForm: (to: SessionOptions["presence"], over: string) => changeForm(settings, to, self.username, Date.now(), over)
    }
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

/** A sign-in failure as a sentence for the page. */
const accountError = (e: GitHubFailure): Error =>
  new Error(e._tag === "GitHubHttpError" && e.status === 401 ? "The token was refused (401): check that it is valid and not expired." : describe(e, "GitHub"))

/** Runs an account request on a client of its own (no repository chosen yet). */
const account = <A>(api: string, token: string, request: Effect.Effect<A, GitHubFailure, GitHub>): Promise<A> =>
  Effect.runPromise(
    request.pipe(
      Effect.provide(layerGitHub({ baseUrl: api, token, userAgent: USER_AGENT, owner: "", repo: "" })),
      Effect.mapError(accountError)
    )
  )

/** Reads which presence form `repository` records (nothing is written). */
const lookupRecordedForm = async (api: string, token: string, repository: string): Promise<RecordedLookup> => {
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

/** The page's services. */
export const browserServices: WebServices = {
  whoAmI: (api, token) => account(api, token, whoAmI),
  listRepos: (api, token) => account(api, token, listRepos),
  lookupRecordedForm,
  startSession
}
