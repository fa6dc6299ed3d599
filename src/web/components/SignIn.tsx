/** Sign in: paste a token, or on the local hub pick a demo user. */
import { createSignal, For, Show } from "solid-js"
import type { WebConfig } from "../config.js"
import { useServices } from "../services.js"

export const SignIn = (props: { readonly config: WebConfig; readonly onSignedIn: (token: string, login: string) => void }) => {
  const { whoAmI } = useServices()
  const [token, setToken] = createSignal(props.config.token ?? "")
  const [busy, setBusy] = createSignal(false)
  const [problem, setProblem] = createSignal<string | undefined>()

  const signIn = async (t: string) => {
    setBusy(true)
    setProblem(undefined)
    try {
      props.onSignedIn(t, await whoAmI(props.config.api, t))
    } catch (e) {
      setProblem(e instanceof Error ? e.message : String(e))
    } finally {
      setBusy(false)
    }
  }

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
                <button class="primary" data-testid={`demo-${u.login}`} disabled={busy()} onClick={() => void signIn(u.token)}>
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
            if (token().trim() !== "") void signIn(token().trim())
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
          <button type="submit" disabled={busy() || token().trim() === ""}>
            Sign in
          </button>
        </form>
        <p class="muted small">The token stays in this tab: SkyGit has no server, it talks to {props.config.api} directly.</p>
        <Show when={problem()}>{(p) => <p class="banner error">{p()}</p>}</Show>
      </section>
    </main>
  )
}
