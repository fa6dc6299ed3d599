/**
 * The main view: banners, people and their connections, the repository's conversations,
 * the open conversation and the call bar. On a narrow screen people and conversations
 * fold into a drawer.
 */
import { createMemo, createSignal, onCleanup, Show } from "solid-js"
import { Option } from "effect"
import type { CallsView } from "../../app/calls.js"
import type { PeerView } from "../../app/peer-state.js"
import { GENERAL, involves, kindOf, titleOf } from "../../domain/conversation.js"
import { normalizeLogin, sameUser, type PeerId } from "../../domain/identity.js"
import { directConversation, type ConversationId } from "../../domain/message.js"
import { noteTyping, typists, TYPING_SHOWN_MS, type TypingState } from "../../domain/typing.js"
import { fromStream, onEach, polled, run } from "../bridge.js"
import { mentions } from "../markdown.js"
import { askNotificationPermission, notifyIfHidden } from "../notify.js"
import type { Session } from "../services.js"
import { Banners } from "./Banners.js"
import { CallPanel } from "./CallPanel.js"
import { Conversation } from "./Conversation.js"
import { ConversationList } from "./ConversationList.js"
import { People } from "./People.js"

/** How often the peer's view is read again. */
export const VIEW_POLL_MS = 400
/** Conversations listed at most (a hostile mesh cannot grow the list without bound). */
export const MAX_CONVERSATIONS = 500

const emptyCalls: CallsView = { call: undefined, local: [], remote: [], problems: [] }

/** general first, then named conversations, then direct ones, each alphabetically. */
const rank = (id: ConversationId): number => (id === GENERAL ? 0 : id.startsWith("dm--") ? 2 : 1)
const byRank = (a: ConversationId, b: ConversationId): number => rank(a) - rank(b) || a.localeCompare(b)

export const Room = (props: { readonly session: Session; readonly onLeave: () => void; readonly presenceInfo?: string }) => {
  const session = props.session
  const self = session.self
  const initial: PeerView = { self, links: [], online: [], component: [], leader: undefined, isLeader: false, rateNotice: undefined, presenceProblem: undefined, rejections: [], waiting: 0, people: [], refused: {} }
  const view = polled(session.peer.view, initial, VIEW_POLL_MS)
  const calls = fromStream(session.calls.changes, emptyCalls)
  const [selected, setSelected] = createSignal<ConversationId>(GENERAL)
  const [version, setVersion] = createSignal(0)
  const [unread, setUnread] = createSignal<ReadonlyMap<string, number>>(new Map())
  const [mentioned, setMentioned] = createSignal<ReadonlySet<string>>(new Set())
  const [known, setKnown] = createSignal<ReadonlySet<ConversationId>>(new Set([GENERAL]))
  const [typing, setTyping] = createSignal<TypingState>(new Map())
  const [now, setNow] = createSignal(Date.now())
  const [drawer, setDrawer] = createSignal(false)
  const [problem, setProblem] = createSignal<string | undefined>()

  // Typing notices expire by time alone: re-evaluate who types every second.
  const clock = setInterval(() => setNow(Date.now()), Math.min(1_000, TYPING_SHOWN_MS / 4))
  onCleanup(() => clearInterval(clock))

  /** Lists a conversation this user is in. */
  const know = (id: ConversationId) => {
    if (known().has(id) || !involves(id, self.username) || known().size >= MAX_CONVERSATIONS) return
    setKnown((k) => new Set([...k, id]))
  }

  // What the repository holds (history older than any device), then what arrives live.
  run(session.peer.archive.conversations).then(
    (ids) => ids.forEach(know),
    (e: unknown) => setProblem(`Could not list the repository's conversations: ${e instanceof Error ? e.message : String(e)}`)
  )

  onEach(session.peer.messages, (m) => {
    setVersion((v) => v + 1)
    know(m.conversation)
    if (sameUser(m.author, self.username)) return
    const mine = mentions(m.text, self.username)
    const direct = Option.exists(kindOf(m.conversation), (k) => k._tag === "direct")
    if (m.conversation !== selected() || document.visibilityState === "hidden") {
      setUnread((u) => new Map(u).set(m.conversation, (u.get(m.conversation) ?? 0) + 1))
      if (mine) setMentioned((s) => new Set([...s, m.conversation]))
    }
    if (mine || direct) notifyIfHidden(`${m.author} in ${titleOf(m.conversation, self.username)}`, m.text, m.conversation)
    // The typist sent it: stop showing them as typing there.
    setTyping((t) => {
      const users = t.get(m.conversation)
      if (users === undefined || !users.has(normalizeLogin(m.author))) return t
      const next = new Map(t)
      next.set(m.conversation, new Map([...users].filter(([k]) => k !== normalizeLogin(m.author))))
      return next
    })
  })

  onEach(session.peer.activity, (a) => {
    if (a._tag === "topic") know(a.conversation)
    else {
      know(a.conversation)
      setTyping((t) => noteTyping(t, a.conversation, a.from.username, Date.now()))
    }
  })

  // Direct conversations with everyone online are there to open, without a message yet.
  const conversations = createMemo(() => {
    const ids = new Set(known())
    for (const p of view().online) if (!sameUser(p.username, self.username)) ids.add(directConversation(self.username, p.username))
    return [...ids].sort(byRank)
  })

  const open = (id: ConversationId) => {
    setSelected(id)
    setDrawer(false)
    setUnread((u) => {
      const next = new Map(u)
      next.delete(id)
      return next
    })
    setMentioned((s) => new Set([...s].filter((c) => c !== id)))
  }

  const create = (id: ConversationId) => {
    know(id)
    open(id)
    void run(session.peer.sendActivity("topic", id))
  }

  const [callProblem, setCallProblem] = createSignal<string | undefined>()
  const dial = (peers: ReadonlyArray<PeerId>, media: "audio" | "video") =>
    run(session.calls.dial(peers, media)).then(
      () => setCallProblem(undefined),
      (e: unknown) => setCallProblem(`Cannot call ${peers.map((p) => p.username).join(", ")}: ${e instanceof Error ? e.message : String(e)}`)
    )
  const callBusy = () => calls().call !== undefined && calls().call!.endedAt === undefined
  const refused = () => view().rejections.length
  let askedPermission = false

  return (
    <div class="room" data-testid="room" onKeyDown={(e) => e.key === "Escape" && drawer() && setDrawer(false)}>
      <header class="topbar">
        <button
          class="drawer-toggle"
          aria-expanded={drawer()}
          aria-controls="sidebar"
          data-testid="drawer-toggle"
          onClick={() => setDrawer((d) => !d)}
        >
          People &amp; conversations
        </button>
        <strong>SkyGit</strong>
        <span data-testid="repository">{session.repository}</span>
        <span class="muted" data-testid="presence-form" title={props.presenceInfo}>
          presence: {session.presence === "file" ? "file" : "Discussion"}
        </span>
        <Show when={refused() > 0}>
          <span
            class="tag bad"
            data-testid="error-count"
            title={`Frames or messages refused from other peers (malformed, spoofed or out of place). Latest: ${view().rejections.at(-1)?.reason ?? ""}`}
          >
            {refused()} refused
          </span>
        </Show>
        <span class="grow" />
        <span>
          {self.username} <span class="muted small">({self.sessionId})</span>
        </span>
        <button onClick={() => props.onLeave()}>Leave</button>
      </header>
      <Banners view={view()} calls={calls()} />
      <Show when={callProblem()}>{(p) => <p class="banner error">{p()}</p>}</Show>
      <Show when={problem()}>{(p) => <p class="banner warn">{p()}</p>}</Show>
      <div class="columns">
        <aside id="sidebar" class="sidebar" classList={{ open: drawer() }} aria-label="People and conversations" data-testid="sidebar">
          <People view={view()} self={self} callBusy={callBusy()} onDial={(p, m) => void dial([p], m)} />
          <ConversationList
            self={self.username}
            conversations={conversations()}
            selected={selected()}
            unread={unread()}
            mentioned={mentioned()}
            onOpen={open}
            onCreate={create}
          />
        </aside>
        <main class="main">
          <div class="call-bar">
            <CallPanel session={session} calls={calls()} />
          </div>
          <Show when={selected()} keyed>
            {(id) => (
              <Conversation
                session={session}
                conversation={id}
                version={version()}
                view={view()}
                typists={typists(typing(), id, self.username, now())}
                callBusy={callBusy()}
                onDial={(peers, media) => void dial(peers, media)}
                onFirstSend={() => {
                  if (askedPermission) return
                  askedPermission = true
                  void askNotificationPermission()
                }}
              />
            )}
          </Show>
        </main>
      </div>
    </div>
  )
}
