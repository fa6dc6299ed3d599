/**
 * Who is here: people (users), each with their sessions (tabs, processes) folded under
 * them, every session with an honest state: connected, still connecting, or "away" (not
 * heard from: it went without a goodbye, and is no longer someone to connect to).
 */
import { createMemo, For, Show } from "solid-js"
import type { Person, PersonSession, PeerView, SessionState } from "../../app/peer-state.js"
import { sameUser, type PeerId } from "../../domain/identity.js"
import { Unverified } from "./Unverified.js"

/** What each session state means, for the tooltip. */
const STATE_HELP: Record<SessionState, string> = {
  self: "this tab",
  discovered: "seen in the presence channel, not contacted yet",
  signaling: "exchanging connection offers",
  connecting: "opening a direct connection",
  open: "connected directly",
  reconnecting: "connection lost, trying again",
  failed: "could not connect; will try again later. Meanwhile what they say reaches you through the repository, once saved (up to about 12 minutes late)",
  away: "not heard from: it left without a goodbye (closed, asleep or crashed); not contacted until it is back"
}

const LEADER_HELP = "keeps the history: commits messages to the skygit branch"

/** A person's state as one word: connected if any session is, else how far the best one got, else away. */
export const personState = (person: Person): SessionState => {
  const states = person.sessions.map((s) => s.state).filter((s) => s !== "self")
  if (states.includes("open")) return "open"
  return states.find((s) => s !== "away") ?? (states.length > 0 ? "away" : "self")
}

export const People = (props: {
  readonly view: PeerView
  readonly self: PeerId
  /** Sessions this tab ran before (a reload's predecessors): gone, not "your other tab". */
  readonly earlier: ReadonlySet<string>
  readonly callBusy: boolean
  readonly onDial: (peer: PeerId, media: "audio" | "video") => void
}) => {
  const me = createMemo(() => props.view.people.find((p) => sameUser(p.username, props.self.username)))
  const others = createMemo(() => props.view.people.filter((p) => !sameUser(p.username, props.self.username)))
  // Keyed by user, so a new view (every poll) updates rows in place instead of rebuilding them.
  const names = createMemo(() => others().map((p) => p.username), [], { equals: (a, b) => a.length === b.length && a.every((k, i) => k === b[i]) })
  const byName = createMemo(() => new Map(others().map((p) => [p.username, p])))
  const mySessions = () => (me()?.sessions ?? []).filter((s) => s.state !== "self" && !props.earlier.has(s.peer.sessionId))

  return (
    <section aria-labelledby="people-title">
      <h3 id="people-title">People</h3>
      <ul class="people" data-testid="people">
        <li class="person" data-testid="person-self">
          <span class="name">
            {props.self.username} <span class="muted small">(you)</span>
          </span>
          {/* Only while this session commits: the smallest in its view is not leading yet while it
              settles, waits for presence to answer, or waits for those online to join its component. */}
          <Show when={props.view.isLeader}>
            <span class="tag leader" title={LEADER_HELP}>leader</span>
          </Show>
        </li>
        <Show when={mySessions().length > 0}>
          <li>
            <ul class="sessions" data-testid={`sessions-${props.self.username}`}>
              <For each={mySessions()}>{(s) => <SessionRow session={s} label="your other tab" />}</For>
            </ul>
          </li>
        </Show>
        <For each={names()} fallback={<li class="muted small">Nobody else is here yet. Waiting for people to come online…</li>}>
          {(name) => {
            // A departing row may render once more before it is removed: it keeps its last value.
            let last = byName().get(name)!
            const person = () => (last = byName().get(name) ?? last)
            const open = () => person().sessions.find((s) => s.state === "open")
            const state = () => personState(person())
            return (
              <li class="person-group" data-testid={`person-group-${name}`}>
                <div class="person" data-testid={`person-${name}`} data-state={state()}>
                  <span class="name">{name}</span>
                  <Unverified identities={props.view.identities} />
                  <span class={`state ${state()}`} title={STATE_HELP[state()]} data-testid="link-state">
                    {state()}
                  </span>
                  <Show when={person().sessions.some((s) => s.leader)}>
                    <span class="tag leader" title={LEADER_HELP}>leader</span>
                  </Show>
                  <Show when={open()}>
                    {(s) => (
                      <span class="actions">
                        <button title="Audio call" disabled={props.callBusy} data-testid={`call-audio-${name}`} onClick={() => props.onDial(s().peer, "audio")}>
                          Call
                        </button>
                        <button title="Video call" disabled={props.callBusy} data-testid={`call-video-${name}`} onClick={() => props.onDial(s().peer, "video")}>
                          Video
                        </button>
                      </span>
                    )}
                  </Show>
                </div>
                <ul class="sessions" data-testid={`sessions-${name}`}>
                  <For each={person().sessions}>{(s) => <SessionRow session={s} label={`session ${s.peer.sessionId}`} />}</For>
                </ul>
              </li>
            )
          }}
        </For>
      </ul>
    </section>
  )
}

/** One session under its person. */
const SessionRow = (props: { readonly session: PersonSession; readonly label: string }) => (
  <li class="session small" data-testid={`session-${props.session.peer.sessionId}`} data-state={props.session.state}>
    <span class="muted">{props.label}</span>
    <span class={`state ${props.session.state}`} title={STATE_HELP[props.session.state]}>
      {props.session.state}
    </span>
    <Show when={props.session.leader}>
      <span class="tag leader" title={LEADER_HELP}>leader</span>
    </Show>
  </li>
)
