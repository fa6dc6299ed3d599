/**
 * Connection settings (issue 10 §1): STUN servers, one TURN server with credentials,
 * relay-only mode, and whether to remember them on this device. Renders and reports; the
 * rules are in src/web/ice-settings.ts.
 */
import { createSignal, Show } from "solid-js"
import { iceSettingsProblem, type IceSettings } from "../ice-settings.js"

/** The settings form; `onChange` gets only settings that pass validation. */
export const IceSettingsPanel = (props: { readonly settings: IceSettings; readonly onChange: (s: IceSettings) => void }) => {
  const [stun, setStun] = createSignal(props.settings.stunUrls.join(" "))
  const [turnUrl, setTurnUrl] = createSignal(props.settings.turn?.urls ?? "")
  const [username, setUsername] = createSignal(props.settings.turn?.username ?? "")
  const [credential, setCredential] = createSignal(props.settings.turn?.credential ?? "")
  const [relayOnly, setRelayOnly] = createSignal(props.settings.relayOnly)
  const [remember, setRemember] = createSignal(props.settings.remember)
  const [problem, setProblem] = createSignal<string | undefined>(undefined)

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
    if (why === undefined) props.onChange(next)
  }

  return (
    <details class="ice-settings">
      <summary>Connection settings</summary>
      <form onSubmit={apply}>
        <label>
          STUN servers (space-separated)
          <input value={stun()} onInput={(e) => setStun(e.currentTarget.value)} />
        </label>
        <label>
          TURN server
          <input placeholder="turn:turn.example.org:3478" value={turnUrl()} onInput={(e) => setTurnUrl(e.currentTarget.value)} />
        </label>
        <label>
          TURN username
          <input value={username()} onInput={(e) => setUsername(e.currentTarget.value)} autocomplete="off" />
        </label>
        <label>
          TURN credential
          <input type="password" value={credential()} onInput={(e) => setCredential(e.currentTarget.value)} autocomplete="off" />
        </label>
        <label>
          <input type="checkbox" checked={relayOnly()} onChange={(e) => setRelayOnly(e.currentTarget.checked)} /> Relay only (peers never see my address)
        </label>
        <label>
          <input type="checkbox" checked={remember()} onChange={(e) => setRemember(e.currentTarget.checked)} /> Remember on this device
        </label>
        <button type="submit">Save</button>
        <Show when={problem()}>{(p) => <p class="banner error">{p()}</p>}</Show>
      </form>
    </details>
  )
}
