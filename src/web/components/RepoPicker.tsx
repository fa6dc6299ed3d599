/** Pick a repository the token can reach, and how to find each other there. */
import { createResource, createSignal, For, Show } from "solid-js"
import type { WebConfig } from "../config.js"
import { useServices, type PresenceForm } from "../services.js"

export const RepoPicker = (props: {
  readonly config: WebConfig
  readonly token: string
  readonly login: string
  readonly problem: string | undefined
  readonly onJoin: (repository: string, presence: PresenceForm) => void
  readonly onSignOut: () => void
}) => {
  const { listRepos } = useServices()
  const [repos] = createResource(() => listRepos(props.config.api, props.token))
  const [chosen, setChosen] = createSignal<string | undefined>(props.config.defaultRepository)
  const [presence, setPresence] = createSignal<PresenceForm>("file")
  const [filter, setFilter] = createSignal("")
  const visible = () => (repos() ?? []).filter((r) => r.fullName.toLowerCase().includes(filter().toLowerCase()))
  const chosenRepo = () => (repos() ?? []).find((r) => r.fullName === chosen())

  return (
    <main class="center">
      <section class="card wide">
        <header class="row spread">
          <h1>Choose a repository</h1>
          <span class="muted">
            Signed in as <strong data-testid="login">{props.login}</strong>{" "}
            <button class="link" onClick={() => props.onSignOut()}>
              Sign out
            </button>
          </span>
        </header>
        <Show when={props.problem}>{(p) => <p class="banner error">{p()}</p>}</Show>
        <Show when={repos.error}>{(e) => <p class="banner error">Cannot list your repositories: {String((e() as Error).message ?? e())}</p>}</Show>
        <Show when={!repos.loading} fallback={<p>Loading your repositories…</p>}>
          <input type="search" placeholder="Filter" value={filter()} onInput={(e) => setFilter(e.currentTarget.value)} />
          <ul class="repos" data-testid="repos">
            <For each={visible()} fallback={<li class="muted">No repository matches.</li>}>
              {(r) => (
                <li>
                  <label classList={{ selected: chosen() === r.fullName }}>
                    <input type="radio" name="repo" value={r.fullName} checked={chosen() === r.fullName} onChange={() => setChosen(r.fullName)} />
                    <span>{r.fullName}</span>
                    <Show when={r.private}>
                      <span class="tag">private</span>
                    </Show>
                    <Show when={!r.canPush}>
                      <span class="tag warn">read-only</span>
                    </Show>
                  </label>
                </li>
              )}
            </For>
          </ul>
        </Show>
        <fieldset>
          <legend>How people find each other</legend>
          <label>
            <input type="radio" name="presence" checked={presence() === "file"} onChange={() => setPresence("file")} />
            Presence file <code>.messages/presence.json</code> on the <code>skygit</code> branch
          </label>
          <label>
            <input type="radio" name="presence" checked={presence() === "discussion"} onChange={() => setPresence("discussion")} />
            One Discussion ("SkyGit Presence") — needs Discussions enabled
            <Show when={chosenRepo() !== undefined && !chosenRepo()!.hasDiscussions}>
              <span class="tag warn">off in this repository</span>
            </Show>
          </label>
        </fieldset>
        <p class="muted small">Everyone in the same repository must use the same form to meet.</p>
        <button class="primary" data-testid="join" disabled={chosen() === undefined} onClick={() => props.onJoin(chosen()!, presence())}>
          Join {chosen() ?? ""}
        </button>
      </section>
    </main>
  )
}
