/**
 * Connection settings (issue 10 §1): STUN servers, one TURN server with credentials,
 * relay-only mode, whether to remember them on this device, and forgetting what was
 * remembered. Renders and reports; the rules are in src/web/ice-settings.ts.
 */
import { createSignal, Show } from "solid-js"
import { defaultIceSettings, iceSettingsProblem, type IceSettings } from "../ice-settings.js"

/** The settings form; `onChange` gets only settings that pass validation, `onForget` asks to drop what the device keeps. */
export const IceSettingsPanel = (props: {
  readonly settings: IceSettings
  readonly onChange: (s: IceSettings) => void
  readonly onForget: () => void
}) => {
  const [stun, setStun] = createSignal(props.settings.stunUrls.join(" "))
  const [turnUrl, setTurnUrl] = createSignal(props.settings.turn?.urls ?? "")
  const [username, setUsername] = createSignal(props.settings.turn?.username ?? "")
  const [credential, setCredential] = createSignal(props.settings.turn?.credential ?? "")
  const [relayOnly, setRelayOnly] = createSignal(props.settings.relayOnly)
  const [remember, setRemember] = createSignal(props.settings.remember)
  const [problem, setProblem] = createSignal<string | undefined>(undefined)
  const [notice, setNotice] = createSignal<string | undefined>(undefined)

  const apply = (e: Event) => {
    e.preventDefault()
    const next: IceSettings = {
      stunUrls: stun().split(/\s+/).filter((u) => u.length > 0),
      turn: turnUrl().trim() === "" ? undefined : { urls: turnUrl().trim(), username: username(), credential: credential() },
      relayOnly: relayOnly(),
      remember: remember()
    }
    const why = iceSettingsProblem(next)
    setProblem(why)
    setNotice(why === undefined ? (next.remember ? "Saved, and remembered on this device." : "Saved for this tab only.") : undefined)
    if (why === undefined) props.onChange(next)
  }

  const forget = () => {
    props.onForget()
    const d = defaultIceSettings
    setStun(d.stunUrls.join(" "))
    setTurnUrl("")
    setUsername("")
    setCredential("")
    setRelayOnly(d.relayOnly)
    setRemember(d.remember)
    setProblem(undefined)
    setNotice("Forgotten: this device keeps no connection settings.")
  }

  return (
    <details class="ice-settings" data-testid="ice-settings">
      <summary>Connection settings</summary>
      <form onSubmit={apply}>
        <label>
          STUN servers (space-separated)
          <input data-testid="ice-stun" value={stun()} onInput={(e) => setStun(e.currentTarget.value)} />
        </label>
        <label>
          TURN server
          <input data-testid="ice-turn-url" placeholder="turn:turn.example.org:3478" value={turnUrl()} onInput={(e) => setTurnUrl(e.currentTarget.value)} />
        </label>
        <label>
          TURN username
          <input data-testid="ice-turn-user" value={username()} onInput={(e) => setUsername(e.currentTarget.value)} autocomplete="off" />
        </label>
        <label>
          TURN credential
          <input data-testid="ice-turn-credential" type="password" value={credential()} onInput={(e) => setCredential(e.currentTarget.value)} autocomplete="off" />
        </label>
        <label>
          <input data-testid="ice-relay-only" type="checkbox" checked={relayOnly()} onChange={(e) => setRelayOnly(e.currentTarget.checked)} /> Relay only (peers never see my address)
        </label>
        <label>
          <input data-testid="ice-remember" type="checkbox" checked={remember()} onChange={(e) => setRemember(e.currentTarget.checked)} /> Remember on this device
        </label>
        <button type="submit" data-testid="ice-save">Save</button>
        <button type="button" data-testid="ice-forget" onClick={forget}>Forget on this device</button>
        <Show when={problem()}>{(p) => <p class="banner error" role="alert">{p()}</p>}</Show>
        <Show when={notice()}>{(n) => <p class="banner info" data-testid="ice-notice">{n()}</p>}</Show>
      </form>
    </details>
  )
}
