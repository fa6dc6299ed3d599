/** The main view: banners, people and their connections, conversations, the open chat and the call. */
import { createMemo, createSignal, For, Show } from "solid-js"
import type { CallsView } from "../../app/calls.js"
import type { PeerView } from "../../app/peer-state.js"
import { normalizeLogin, type PeerId, type Username } from "../../domain/identity.js"
import { ConversationId, directConversation } from "../../domain/message.js"
import { fromStream, onEach, polled, run } from "../bridge.js"
import type { Session } from "../services.js"
import { Banners } from "./Banners.js"
import { CallPanel } from "./CallPanel.js"
import { Conversation, type ConversationRef } from "./Conversation.js"
import { People } from "./People.js"

/** How often the peer's view is read again. */
export const VIEW_POLL_MS = 400

const GENERAL: ConversationRef = { id: ConversationId.make("general"), title: "# general", to: undefined }

const emptyCalls: CallsView = { call: undefined, local: [], remote: [], problems: [] }

export const Room = (props: { readonly session: Session; readonly onLeave: () => void }) => {
  const session = props.session
  const self = session.self
  const initial: PeerView = { self, links: [], online: [], component: [], leader: undefined, isLeader: false, rateNotice: undefined, presenceProblem: undefined, rejections: [] }
  const view = polled(session.peer.view, initial, VIEW_POLL_MS)
  const calls = fromStream(session.calls.changes, emptyCalls)
  const [selected, setSelected] = createSignal<ConversationRef>(GENERAL)
  const [version, setVersion] = createSignal(0)
  const [unread, setUnread] = createSignal<ReadonlyMap<string, number>>(new Map())
  /** Users we exchanged direct messages with, besides those online. */
  const [dmUsers, setDmUsers] = createSignal<ReadonlyArray<Username>>([])

  onEach(session.peer.messages, (m) => {
    setVersion((v) => v + 1)
    if (m.conversation !== selected().id && m.author !== self.username) {
      setUnread((u) => new Map(u).set(m.conversation, (u.get(m.conversation) ?? 0) + 1))
    }
    if (m.conversation.startsWith("dm--") && normalizeLogin(m.author) !== normalizeLogin(self.username) && !dmUsers().includes(m.author)) {
      setDmUsers((d) => [...d, m.author])
    }
  })

  const others = createMemo(() => {
    const users = new Map<string, Username>(dmUsers().map((u) => [normalizeLogin(u), u]))
    for (const p of view().online) if (normalizeLogin(p.username) !== normalizeLogin(self.username)) users.set(normalizeLogin(p.username), p.username)
    return [...users.values()].sort((a, b) => a.localeCompare(b))
  }, [], { equals: (a, b) => a.length === b.length && a.every((u, i) => u === b[i]) })
  const dmOf = (user: Username): ConversationRef => ({ id: directConversation(self.username, user), title: `@ ${user}`, to: user })
  const conversations = createMemo(() => [GENERAL, ...others().map(dmOf)])

  const open = (c: ConversationRef) => {
    setSelected(c)
    setUnread((u) => {
      const next = new Map(u)
      next.delete(c.id)
      return next
    })
  }
  const [callProblem, setCallProblem] = createSignal<string | undefined>()
  const dial = (peer: PeerId, media: "audio" | "video") =>
    run(session.calls.dial([peer], media)).then(
      () => setCallProblem(undefined),
      (e: unknown) => setCallProblem(`Cannot call ${peer.username}: ${e instanceof Error ? e.message : String(e)}`)
    )

  return (
    <div class="room" data-testid="room">
      <header class="topbar">
        <strong>SkyGit</strong>
        <span data-testid="repository">{session.repository}</span>
        <span class="muted">presence: {session.presence === "file" ? "file" : "discussion"}</span>
        <span class="grow" />
        <span>
          {self.username} <span class="muted small">({self.sessionId})</span>
        </span>
        <button onClick={() => props.onLeave()}>Leave</button>
      </header>
      <Banners view={view()} calls={calls()} />
      <Show when={callProblem()}>{(p) => <p class="banner error">{p()}</p>}</Show>
      <div class="columns">
        <aside class="sidebar">
          <People view={view()} self={self} callBusy={calls().call !== undefined && calls().call!.endedAt === undefined} onDial={(p, m) => void dial(p, m)} />
          <section>
            <h3>Conversations</h3>
            <ul class="conversations" data-testid="conversations">
              <For each={conversations()}>
                {(c) => (
                  <li>
                    <button classList={{ active: selected().id === c.id }} onClick={() => open(c)} data-testid={`conversation-${c.to ?? "general"}`}>
                      {c.title}
                      <Show when={(unread().get(c.id) ?? 0) > 0}>
                        <span class="badge">{unread().get(c.id)}</span>
                      </Show>
                    </button>
                  </li>
                )}
              </For>
            </ul>
          </section>
        </aside>
        <section class="main">
          <CallPanel session={session} calls={calls()} />
          <Conversation session={session} conversation={selected()} version={version()} />
        </section>
      </div>
    </div>
  )
}
