/**
 * Sign in: paste a token, or on the local hub pick a demo user. A token kept for the tab
 * (or remembered on the device) signs in by itself; "Forget token" clears it everywhere.
 */
import { createSignal, For, onMount, Show } from "solid-js"
import type { WebConfig } from "../config.js"
import { useServices } from "../services.js"
import type { KeptToken } from "../token-store.js"

export const SignIn = (props: {
  readonly config: WebConfig
  /** A token kept by this tab or device, tried at once. */
  readonly kept: KeptToken | undefined
  /** `remember`: the user asked to keep the token on this device. */
  readonly onSignedIn: (token: string, login: string, remember: boolean) => void
  readonly onForget: () => void
}) => {
  const { whoAmI } = useServices()
  const [token, setToken] = createSignal(props.kept?.token ?? props.config.token ?? "")
  const [remember, setRemember] = createSignal(props.kept?.remembered ?? false)
  const [busy, setBusy] = createSignal(false)
  const [problem, setProblem] = createSignal<string | undefined>()

  const signIn = async (t: string, keep: boolean) => {
    setBusy(true)
    setProblem(undefined)
    try {
      props.onSignedIn(t, await whoAmI(props.config.api, t), keep)
    } catch (e) {
      setProblem(e instanceof Error ? e.message : String(e))
    } finally {
      setBusy(false)
    }
  }

  onMount(() => {
    if (props.kept !== undefined) void signIn(props.kept.token, props.kept.remembered)
  })

  return (
    <main class="center">
      <section class="card">
        <h1>SkyGit</h1>
        <p class="muted">Chat and calls for the people working on one GitHub repository.</p>
        <Show when={props.config.local}>
          <h2>Local demo hub</h2>
          <p class="muted">No GitHub token was given, so SkyGit runs on its local GitHub-compatible hub. Open a second tab and sign in as someone else to chat.</p>
          <div class="row">
            <For each={props.config.demoUsers}>
              {(u) => (
                <button class="primary" data-testid={`demo-${u.login}`} disabled={busy()} onClick={() => void signIn(u.token, false)}>
                  Sign in as {u.login}
                </button>
              )}
            </For>
          </div>
          <h2>Or use a token</h2>
        </Show>
        <form
          onSubmit={(e) => {
            e.preventDefault()
            if (token().trim() !== "") void signIn(token().trim(), remember())
          }}
        >
          <label>
            {props.config.local ? "Token of a hub user" : "GitHub token (fine-grained: Contents and Discussions read/write; or classic: repo)"}
            <input
              type="password"
              autocomplete="off"
              data-testid="token"
              value={token()}
              onInput={(e) => setToken(e.currentTarget.value)}
              placeholder="ghp_… or github_pat_…"
            />
          </label>
          <Show when={!props.config.local}>
            <label class="inline">
              <input type="checkbox" data-testid="remember" checked={remember()} onChange={(e) => setRemember(e.currentTarget.checked)} />
              Remember on this device
            </label>
          </Show>
          <button type="submit" disabled={busy() || token().trim() === ""}>
            Sign in
          </button>
        </form>
        <p class="muted small">
          The token stays in this tab{remember() ? " and, as you asked, on this device" : ""}: SkyGit has no server, it talks to {props.config.api} directly.
        </p>
        <Show when={props.kept !== undefined}>
          <p class="small">
            <button class="link" data-testid="forget-token" onClick={() => props.onForget()}>
              Forget token
            </button>{" "}
            <span class="muted">({props.kept?.remembered === true ? "kept on this device" : "kept for this tab"})</span>
          </p>
        </Show>
        <Show when={problem()}>{(p) => <p class="banner error">{p()}</p>}</Show>
      </section>
    </main>
  )
}
