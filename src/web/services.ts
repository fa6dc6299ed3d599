/**
 * What the page is given by the browser room (`src/main/browser.ts`): sign-in, the
 * repository list and sessions, as plain promises over the app's view types. Components
 * take them from Solid's context (`useServices`), so the UI never builds an adapter.
 */
import { createContext, useContext } from "solid-js"
import type { CallsService } from "../app/calls.js"
import type { PeerConfig } from "../app/config.js"
import type { PeerHandle } from "../app/peer.js"
import type { changeForm, RecordedSettings, RepoSettingsService } from "../app/presence-form.js"
import type { PeerId } from "../domain/identity.js"

/** The presence channel's form. */
export type PresenceForm = "file" | "discussion"

/** A repository the token can use. */
export interface RepoChoice {
  /** "owner/name". */
  readonly fullName: string
  readonly private: boolean
  readonly canPush: boolean
  readonly hasDiscussions: boolean
}

/** What a repository records about SkyGit, as the picker shows it before joining. */
export type RecordedLookup =
  | { readonly _tag: "recorded"; readonly recorded: RecordedSettings }
  | { readonly _tag: "none" }
  | { readonly _tag: "problem"; readonly detail: string }

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
  /** The repository's settings, to watch for a change of form. */
  readonly settings: RepoSettingsService
  /** Records another form for everyone, over the version the user saw. */
  readonly changeForm: (to: PresenceForm, over: string) => ReturnType<typeof changeForm>
  readonly peer: PeerHandle
  readonly calls: CallsService
  /** The platform track behind a call's track handle, to render it. */
  readonly nativeTrack: (track: { readonly id: string }) => MediaStreamTrack | undefined
  /** Leaves: flushes if leading, says goodbye, withdraws the presence entry. */
  readonly close: () => Promise<void>
}

/** Everything the page asks of the outside world; failures reject with an Error whose message is for people. */
export interface WebServices {
  /** The login of the token's owner. */
  readonly whoAmI: (api: string, token: string) => Promise<string>
  /** Every repository the token can reach. */
  readonly listRepos: (api: string, token: string) => Promise<ReadonlyArray<RepoChoice>>
  /** Reads which presence form `repository` records (nothing is written). */
  readonly lookupRecordedForm: (api: string, token: string, repository: string) => Promise<RecordedLookup>
  /** Starts a session; it lives until `close`. */
  readonly startSession: (options: SessionOptions) => Promise<Session>
}

/** Provided once, around the whole page, by the browser room. */
export const Services = createContext<WebServices>()

/** The page's services; only inside `<Services.Provider>`. */
export const useServices = (): WebServices => {
  const services = useContext(Services)
  if (services === undefined) throw new Error("useServices outside <Services.Provider>")
  return services
}
