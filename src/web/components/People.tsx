/** Who is online, the state of our connection to each session, and who leads (commits history). */
import { createMemo, For, Show } from "solid-js"
import type { PeerView } from "../../app/peer-state.js"
import { peerKey, samePeer, sameUser, type PeerId } from "../../domain/identity.js"
import type { LinkState } from "../../domain/link.js"

/** What each connection state means, for the tooltip. */
const STATE_HELP: Record<LinkState, string> = {
  discovered: "seen in the presence channel, not contacted yet",
  signaling: "exchanging connection offers",
  connecting: "opening a direct connection",
  open: "connected directly",
  reconnecting: "connection lost, trying again",
  failed: "could not connect; will try again later"
}

interface Row {
  readonly peer: PeerId
  readonly state: LinkState
}

/** Every session we know of: those with a connection, and those only seen online. */
const rowsOf = (view: PeerView): ReadonlyArray<Row> => {
  const rows = new Map<string, Row>()
  for (const p of view.online) rows.set(peerKey(p), { peer: p, state: "discovered" })
  for (const l of view.links) rows.set(peerKey(l.peer), { peer: l.peer, state: l.state })
  return [...rows.values()].sort((a, b) => peerKey(a.peer).localeCompare(peerKey(b.peer)))
}

export const People = (props: {
  readonly view: PeerView
  readonly self: PeerId
  readonly callBusy: boolean
  readonly onDial: (peer: PeerId, media: "audio" | "video") => void
}) => {
  const leads = (p: PeerId) => props.view.leader !== undefined && samePeer(props.view.leader, p)
  const rows = createMemo(() => new Map(rowsOf(props.view).map((r) => [peerKey(r.peer), r])))
  // Rows are keyed by peer, so a new view (every poll) updates them in place instead of rebuilding them.
  const keys = createMemo(() => [...rows().keys()], [], { equals: (a, b) => a.length === b.length && a.every((k, i) => k === b[i]) })
  return (
    <section>
      <h3>People</h3>
      <ul class="people" data-testid="people">
        <li class="person">
          <span class="name">
            {props.self.username} <span class="muted small">(you)</span>
          </span>
          <Show when={props.view.isLeader || leads(props.self)}>
            <span class="tag leader" title="keeps the history: commits messages to the skygit branch">leader</span>
          </Show>
        </li>
        <For each={keys()} fallback={<li class="muted small">Nobody else is here yet. Waiting for people to come online…</li>}>
          {(key) => {
            // A departing row may render once more before it is removed: it keeps its last value.
            let last = rows().get(key)!
            const row = () => (last = rows().get(key) ?? last)
            return (
              <li class="person" data-testid={`person-${row().peer.username}`} data-state={row().state}>
                <span class="name" title={row().peer.sessionId}>
                  {row().peer.username}
                  <Show when={props.view.identities === "claimed"}>
                    <span class="tag unverified" title="the presence file does not prove who this is" data-testid="unverified">
                      unverified
                    </span>
                  </Show>
                  <Show when={sameUser(row().peer.username, props.self.username)}>
                    <span class="muted small"> (your other tab{props.view.identities === "claimed" ? "?" : ""})</span>
                  </Show>
                </span>
                <span class={`state ${row().state}`} title={STATE_HELP[row().state]} data-testid="link-state">
                  {row().state}
                </span>
                <Show when={leads(row().peer)}>
                  <span class="tag leader" title="keeps the history: commits messages to the skygit branch">leader</span>
                </Show>
                <Show when={row().state === "open"}>
                  <span class="actions">
                    <button title="Audio call" disabled={props.callBusy} data-testid={`call-audio-${row().peer.username}`} onClick={() => props.onDial(row().peer, "audio")}>
                      Call
                    </button>
                    <button title="Video call" disabled={props.callBusy} data-testid={`call-video-${row().peer.username}`} onClick={() => props.onDial(row().peer, "video")}>
                      Video
                    </button>
                  </span>
                </Show>
              </li>
            )
          }}
        </For>
      </ul>
    </section>
  )
}
