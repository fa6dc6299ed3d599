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
  const { listRepos, lookupRecordedForm } = useServices()
  const [repos] = createResource(() => listRepos(props.config.api, props.token))
  const [chosen, setChosen] = createSignal<string | undefined>(props.config.defaultRepository)
  const [presence, setPresence] = createSignal<PresenceForm>("file")
  const [filter, setFilter] = createSignal("")
  const visible = () => (repos() ?? []).filter((r) => r.fullName.toLowerCase().includes(filter().toLowerCase()))
  const chosenRepo = () => (repos() ?? []).find((r) => r.fullName === chosen())
  // Which form the chosen repository records: then there is nothing to pick.
  const [recorded] = createResource(chosen, (repo) => lookupRecordedForm(props.config.api, props.token, repo))
  const discussionsOff = () => chosenRepo() !== undefined && !chosenRepo()!.hasDiscussions
  const formName = (f: PresenceForm) => (f === "file" ? "the presence file .messages/presence.json" : 'one Discussion ("SkyGit Presence")')
  const joinForm = (): PresenceForm => {
    const r = recorded()
    return r?._tag === "recorded" ? r.recorded.settings.presence : discussionsOff() ? "file" : presence()
  }

  return (
    <main class="center">
      <section class="card wide">
        <header class="row spread">
          <h1>Choose a repository</h1>
          <span class="muted">
            Signed in as <strong data-testid="login">{props.login}</strong>{" "}
            {/* On GitHub signing out forgets the token, in the tab and on the device. */}
            <button class="link" data-testid={props.config.local ? "sign-out" : "forget-token"} onClick={() => props.onSignOut()}>
              {props.config.local ? "Sign out" : "Forget token"}
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
        <Show when={chosen() !== undefined}>
          <Show when={!recorded.loading} fallback={<p class="muted">Checking how people meet in {chosen()}…</p>}>
            <Show
              when={recorded()?._tag === "recorded" && recorded()}
              fallback={
                <fieldset data-testid="form-choice">
                  <legend>How people find each other in {chosen()}</legend>
                  <p class="muted small">
                    Nobody has enabled SkyGit on {chosen()} yet: you choose for everyone. The choice is recorded on the <code>skygit</code> branch
                    (<code>.messages/skygit.json</code>) and everyone after you joins it.
                  </p>
                  <label>
                    <input type="radio" name="presence" checked={presence() === "file"} onChange={() => setPresence("file")} />
                    Presence file <code>.messages/presence.json</code> on the <code>skygit</code> branch (works everywhere)
                  </label>
                  <label>
                    <input type="radio" name="presence" checked={presence() === "discussion"} disabled={discussionsOff()} onChange={() => setPresence("discussion")} />
                    One Discussion ("SkyGit Presence"): identities checked by GitHub, no commits for presence
                  </label>
                  <Show when={discussionsOff()}>
                    <p class="muted small" data-testid="discussions-off">
                      Discussions are off in {chosen()}, so the Discussion form cannot be used. An administrator can turn them on under Settings → General →
                      Features → Discussions.
                    </p>
                  </Show>
                  <Show when={recorded()?._tag === "problem" && recorded()}>
                    {(r) => <p class="banner error">Cannot read {chosen()}'s SkyGit settings: {(r() as { detail: string }).detail}</p>}
                  </Show>
                </fieldset>
              }
            >
              {(r) => {
                const rec = () => (r() as Extract<ReturnType<typeof recorded>, { _tag: "recorded" }>).recorded.settings
                return (
                  <p class="banner info" data-testid="recorded-form">
                    {chosen()} uses {formName(rec().presence)} (chosen by {rec().chosenBy} on {new Date(rec().chosenAt).toLocaleDateString()}). You will join it.
                  </p>
                )
              }}
            </Show>
          </Show>
          {/* A reader cannot write the presence file: say before joining how they are found, or why they cannot be. */}
          <Show when={!recorded.loading && chosenRepo() !== undefined && !chosenRepo()!.canPush && recorded()?._tag === "none"}>
            <p class="banner warn" data-testid="read-only-unrecorded">
              Nobody has enabled SkyGit on {chosen()} yet, and enabling it records the choice on the <code>skygit</code> branch, which needs push
              access: ask someone who can push to {chosen()} to open SkyGit there first.
            </p>
          </Show>
          <Show when={!recorded.loading && chosenRepo() !== undefined && !chosenRepo()!.canPush && recorded()?._tag === "recorded" && joinForm() === "file"}>
            <Show
              when={!discussionsOff()}
              fallback={
                <p class="banner warn" data-testid="read-only-file" data-lobby="unusable">
                  You can read {chosen()} but not push, and {chosen()} uses the presence file, which needs push access. You would join through the lobby,
                  the Discussion "SkyGit Presence: {chosen()}", but Discussions are disabled on {chosen()}: people not connected to you yet cannot find
                  you. A maintainer must enable them (Settings → General → Features → Discussions), or give you write access.
                </p>
              }
            >
              <p class="banner info" data-testid="read-only-file" data-lobby="usable">
                You can read {chosen()} but not push, so you will join through the lobby: your presence goes to your own comment in the Discussion
                "SkyGit Presence: {chosen()}" (SkyGit starts it if it does not exist), and a member who can push connects to you and saves your
                messages to the repository. If you may not start a discussion in {chosen()}, the room says so, and what a maintainer must do.
              </p>
            </Show>
          </Show>
        </Show>
        <button class="primary" data-testid="join" disabled={chosen() === undefined || recorded.loading} onClick={() => props.onJoin(chosen()!, joinForm())}>
          Join {chosen() ?? ""}
        </button>
      </section>
    </main>
  )
}
