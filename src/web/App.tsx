/**
 * The app's stages: sign in, pick a repository and presence form, then the room.
 * It only holds which stage the page is at; every behaviour lives in src/app.
 */
import { createSignal, Match, onCleanup, onMount, Switch } from "solid-js"
import { loadConfig, type WebConfig } from "./config.js"
import { RepoPicker } from "./components/RepoPicker.js"
import { Room } from "./components/Room.js"
import { SignIn } from "./components/SignIn.js"
import { IceSettingsPanel } from "./components/IceSettingsPanel.js"
import { defaultIceSettings, forgetIceSettings, ICE_SETTINGS_KEY, loadIceSettings, rtcOptionsOf, saveIceSettings, type IceSettings } from "./ice-settings.js"
import { watchPageExit } from "./page-exit.js"
import { useServices, type PresenceForm, type Session } from "./services.js"
import { forgetToken, keepToken, keptToken, pageTokenStores, type KeptToken } from "./token-store.js"
import { earlierSessions, forgetRoom, forgetTab, keepRoom, keptRoom, noteSession } from "./tab-room.js"

type Stage =
  | { readonly _tag: "loading" }
  | { readonly _tag: "broken"; readonly detail: string }
  | { readonly _tag: "signIn"; readonly config: WebConfig; readonly kept: KeptToken | undefined }
  | { readonly _tag: "pick"; readonly config: WebConfig; readonly token: string; readonly login: string; readonly problem?: string }
  | { readonly _tag: "joining"; readonly repository: string }
  | {
      readonly _tag: "room"
      readonly config: WebConfig
      readonly token: string
      readonly login: string
      readonly session: Session
      /** The sessions this tab ran before as this login (a reload's predecessors). */
      readonly earlier: ReadonlySet<string>
    }

const errorText = (e: unknown): string =>
  typeof e === "object" && e !== null && "detail" in e ? String(e.detail) : e instanceof Error ? e.message : String(e)

/** The whole page. */
export const App = () => {
  const { startSession } = useServices()
  const [stage, setStage] = createSignal<Stage>({ _tag: "loading" })
  const storage = typeof localStorage === "undefined" ? undefined : localStorage
  // A token is kept for the tab, and a GitHub token on the device too when asked (a demo hub's
  // never: it means nothing outside this hub). With it the tab keeps the room it is in, so a
  // reload comes back to that room.
  const tokens = pageTokenStores()
  const signInStage = (config: WebConfig): Stage => ({ _tag: "signIn", config, kept: keptToken(tokens, config.api) })
  const signedIn = (config: WebConfig, token: string, login: string, remember: boolean) => {
    keepToken(tokens, config.api, token, remember && !config.local)
    const room = keptRoom(tokens.tab, config.api, login)
    if (room === undefined) setStage({ _tag: "pick", config, token, login })
    else void join(config, token, login, room.repository, room.presence)
  }
  const forget = (config: WebConfig) => {
    forgetToken(tokens, config.api)
    forgetTab(tokens.tab, config.api)
    setStage(signInStage(config))
  }
  const [ice, setIce] = createSignal<IceSettings>(loadIceSettings(storage))
  // Settings the user gave (now or remembered) apply everywhere; until then the local demo needs none.
  const [iceChosen, setIceChosen] = createSignal(storage?.getItem(ICE_SETTINGS_KEY) != null)
  const changeIce = (s: IceSettings) => {
    saveIceSettings(storage, s)
    setIce(s)
    setIceChosen(true)
  }
  const forgetIce = () => {
    forgetIceSettings(storage)
    setIce(defaultIceSettings)
    setIceChosen(false)
  }

  onMount(() => {
    loadConfig().then(
      (config) => setStage(signInStage(config)),
      (e: unknown) => setStage({ _tag: "broken", detail: errorText(e) })
    )
  })

  // Hiding or closing the page commits on the way out; closing says goodbye as far as the page lets it.
  onCleanup(
    watchPageExit(window, () => {
      const s = stage()
      return s._tag === "room" ? s.session : undefined
    })
  )

  const join = async (config: WebConfig, token: string, login: string, repository: string, presence: PresenceForm) => {
    setStage({ _tag: "joining", repository })
    try {
      // The local hub's demo runs on loopback and needs no STUN unless the user set servers; on GitHub the settings apply.
      const rtc = config.local && !iceChosen() ? { iceServers: config.iceServers } : rtcOptionsOf(ice())
      const session = await startSession({ api: config.api, token, login, repository, presence, peerConfig: config.peerConfig, ...rtc })
      const earlier = earlierSessions(tokens.tab, config.api, login)
      keepRoom(tokens.tab, config.api, { login, repository, presence: session.presence })
      noteSession(tokens.tab, config.api, login, session.self.sessionId)
      setStage({ _tag: "room", config, token, login, session, earlier })
    } catch (e) {
      // A room that cannot be joined is not tried again at the next reload.
      forgetRoom(tokens.tab, config.api)
      setStage({ _tag: "pick", config, token, login, problem: `Could not join ${repository}: ${errorText(e)}` })
    }
  }

  const leaveRoom = async (s: Extract<Stage, { _tag: "room" }>) => {
    forgetRoom(tokens.tab, s.config.api)
    await s.session.close()
    setStage({ _tag: "pick", config: s.config, token: s.token, login: s.login })
  }

  return (
    <Switch>
      <Match when={stage()._tag === "loading"}>
        <main class="center"><p>Loading…</p></main>
      </Match>
      <Match when={narrow(stage(), "broken")}>
        {(s) => (
          <main class="center">
            <p class="banner error">SkyGit cannot start: {s().detail}</p>
          </main>
        )}
      </Match>
      <Match when={narrow(stage(), "signIn")}>
        {(s) => (
          <SignIn
            config={s().config}
            kept={s().kept}
            onSignedIn={(token, login, remember) => signedIn(s().config, token, login, remember)}
            onForget={() => forget(s().config)}
          />
        )}
      </Match>
      <Match when={narrow(stage(), "pick")}>
        {(s) => (
          <>
          <RepoPicker
            config={s().config}
            token={s().token}
            login={s().login}
            problem={s().problem}
            onJoin={(repository, presence) => void join(s().config, s().token, s().login, repository, presence)}
            onSignOut={() => forget(s().config)}
          />
          {/* Before joining: the settings apply to the next session. */}
          <IceSettingsPanel settings={ice()} onChange={changeIce} onForget={forgetIce} />
          </>
        )}

      </Match>
      <Match when={narrow(stage(), "joining")}>
        {(s) => (
          <main class="center">
            <p>Joining {s().repository}…</p>
          </main>
        )}
      </Match>
      <Match when={narrow(stage(), "room")}>
        {(s) => (
          <Room
            session={s().session}
            earlier={s().earlier}
            onLeave={() => void leaveRoom(s())}
            onForgetToken={
              s().config.local
                ? undefined
                : () => {
                    const room = s()
                    void room.session.close().then(() => forget(room.config))
                  }
            }
            onMove={(form) => {
              const room = s()
              void room.session.close().then(() => join(room.config, room.token, room.login, room.session.repository, form))
            }}
          />
        )}
      </Match>
    </Switch>
  )
}

/** The stage when it has tag `tag`, for `<Match when>`. */
const narrow = <T extends Stage["_tag"]>(s: Stage, tag: T): Extract<Stage, { _tag: T }> | false =>
  s._tag === tag ? (s as Extract<Stage, { _tag: T }>) : false
