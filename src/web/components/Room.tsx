/**
 * The main view: banners, people and their connections, the repository's conversations,
 * the open conversation and the call bar. On a narrow screen people and conversations
 * fold into a drawer.
 */
import { createEffect, createMemo, createSignal, on, onCleanup, Show } from "solid-js"
import { Option } from "effect"
import type { CallsView } from "../../app/calls.js"
import type { PeerView } from "../../app/peer-state.js"
import { GENERAL, involves, kindOf, titleOf } from "../../domain/conversation.js"
import { normalizeLogin, sameUser, type PeerId } from "../../domain/identity.js"
import { directConversation, type ConversationId } from "../../domain/message.js"
import { noteTyping, typists, TYPING_SHOWN_MS, type TypingState } from "../../domain/typing.js"
import { fromStream, onEach, run } from "../bridge.js"
import { mentions } from "../markdown.js"
import { askNotificationPermission, notifyIfHidden } from "../notify.js"
import type { PresenceForm, Session } from "../services.js"
import { Banners } from "./Banners.js"
import { CallPanel } from "./CallPanel.js"
import { Conversation } from "./Conversation.js"
import { ConversationList } from "./ConversationList.js"
import { People } from "./People.js"
import { claimedName } from "./Unverified.js"
import { SaveStatus } from "./SaveStatus.js"
import { trackMessageStates } from "../message-states.js"

/** How often the repository's recorded presence form is checked (a conditional read: free while unchanged). */
export const SETTINGS_WATCH_MS = 20_000
/** Conversations listed at most (a hostile mesh cannot grow the list without bound). */
export const MAX_CONVERSATIONS = 500

const emptyCalls: CallsView = { call: undefined, local: [], remote: [], problems: [] }

/** general first, then named conversations, then direct ones, each alphabetically. */
const rank = (id: ConversationId): number => (id === GENERAL ? 0 : id.startsWith("dm--") ? 2 : 1)
const byRank = (a: ConversationId, b: ConversationId): number => rank(a) - rank(b) || a.localeCompare(b)

export const Room = (props: {
  readonly session: Session
  /** Sessions this tab ran before as this login: theirs is this person's own (a reload's predecessors). */
  readonly earlier: ReadonlySet<string>
  readonly onLeave: () => void
  /** Rejoins the repository in `form` (its recorded presence form changed). */
  readonly onMove: (form: PresenceForm) => void
  /** Leaves and forgets the GitHub token (absent on the demo hub, whose tokens are not kept). */
  readonly onForgetToken?: (() => void) | undefined
}) => {
  const session = props.session
  const self = session.self
  const initial: PeerView = { self, links: [], online: [], component: [], leader: undefined, isLeader: false, rateNotice: undefined, presenceProblem: undefined, rejections: [], waiting: 0, people: [], refused: {}, identities: "verified" }
  // Pushed by the peer as it changes: nothing here polls it.
  const view = fromStream(session.peer.views, initial)
  const calls = fromStream(session.calls.changes, emptyCalls)
  const stateOf = trackMessageStates(session.peer)
  // What would wait on this device if it closed changes with the view (pending count,
  // leader), with message states and with the network: recounted on each, latest answer wins.
  const [wouldWait, setWouldWait] = createSignal(0)
  let recounts = 0
  const recount = () => {
    const mine = ++recounts
    run(session.peer.waitingOnExit(navigator.onLine)).then(
      (n) => mine === recounts && setWouldWait(n),
      () => undefined
    )
  }
  createEffect(on(view, recount))
  onEach(session.peer.statuses, recount)
  window.addEventListener("online", recount)
  window.addEventListener("offline", recount)
  onCleanup(() => {
    window.removeEventListener("online", recount)
    window.removeEventListener("offline", recount)
  })
  const [selected, setSelected] = createSignal<ConversationId>(GENERAL)
  const [unread, setUnread] = createSignal<ReadonlyMap<string, number>>(new Map())
  const [mentioned, setMentioned] = createSignal<ReadonlySet<string>>(new Set())
  const [known, setKnown] = createSignal<ReadonlySet<ConversationId>>(new Set([GENERAL]))
  const [typing, setTyping] = createSignal<TypingState>(new Map())
  const [now, setNow] = createSignal(Date.now())
  const [drawer, setDrawer] = createSignal(false)
  const [problem, setProblem] = createSignal<string | undefined>()
  const [moving, setMoving] = createSignal<string | undefined>()
  const formLabel = (f: PresenceForm) => (f === "file" ? "presence file" : "Discussion")
  const other: PresenceForm = session.presence === "file" ? "discussion" : "file"

  // Someone changed the repository's presence form: everyone moves to it.
  const watch = setInterval(() => {
    if (moving() !== undefined) return
    run(session.settings.read).then(
      (r) => {
        if (r._tag === "Some" && r.value.settings.presence !== session.presence) {
          setMoving(`${r.value.settings.chosenBy} moved ${session.repository} to the ${formLabel(r.value.settings.presence)}: rejoining…`)
          props.onMove(r.value.settings.presence)
        }
      },
      () => undefined
    )
  }, SETTINGS_WATCH_MS)
  onCleanup(() => clearInterval(watch))

  const moveEveryone = async () => {
    try {
      const latest = await run(session.settings.read)
      const version = latest._tag === "Some" ? latest.value.version : session.recorded.version
      await run(session.changeForm(other, version))
      setMoving(`Moving everyone in ${session.repository} to the ${formLabel(other)}…`)
      props.onMove(other)
    } catch (e) {
      setProblem(`Could not change the presence form: ${e instanceof Error ? e.message : String(e)}`)
    }
  }

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
    know(m.conversation)
    if (sameUser(m.author, self.username)) return
    const mine = mentions(m.text, self.username)
    const direct = Option.exists(kindOf(m.conversation), (k) => k._tag === "direct")
    if (m.conversation !== selected() || document.visibilityState === "hidden") {
      setUnread((u) => new Map(u).set(m.conversation, (u.get(m.conversation) ?? 0) + 1))
      if (mine) setMentioned((s) => new Set([...s, m.conversation]))
    }
    // In file form the author is a claim: the notification says so, as the room does.
    if (mine || direct) notifyIfHidden(`${claimedName(m.author, view().identities)} in ${titleOf(m.conversation, self.username)}`, m.text, m.conversation)
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

  // Coming back to the tab reads the open conversation: its count (kept while hidden) goes.
  const onVisible = () => {
    if (document.visibilityState === "visible") open(selected())
  }
  document.addEventListener("visibilitychange", onVisible)
  onCleanup(() => document.removeEventListener("visibilitychange", onVisible))

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
  // Every refusal is counted by kind (the list of reasons kept is bounded, the counts are not).
  const refused = () => Object.values(view().refused).reduce((n, k) => n + k, 0)
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
        <details class="form-menu">
          <summary data-testid="presence-form" title={`Chosen by ${session.recorded.settings.chosenBy}; everyone in ${session.repository} uses it`}>
            presence: {session.presence === "file" ? "file" : "Discussion"}
          </summary>
          <div class="form-menu-body">
            <p class="small">
              {session.repository} uses the {formLabel(session.presence)} (chosen by {session.recorded.settings.chosenBy}). Changing it moves everyone: each
              session rejoins in the new form.
            </p>
            <button data-testid="change-form" onClick={() => void moveEveryone()}>
              Move everyone to the {formLabel(other)}
            </button>
          </div>
        </details>
        <Show when={refused() > 0}>
          <span
            class="tag bad"
            data-testid="error-count"
            title={`Refused from other peers (malformed, spoofed or out of place): ${Object.entries(view().refused)
              .map(([k, n]) => `${k} ${n}`)
              .join(", ")}. Latest: ${view().rejections.filter((r) => r.own !== true).at(-1)?.reason ?? ""}`}
          >
            {refused()} refused
          </span>
        </Show>
        <span class="grow" />
        <span>
          {self.username} <span class="muted small">({self.sessionId})</span>
        </span>
        <Show when={props.onForgetToken}>
          {(f) => (
            <button class="link" data-testid="forget-token" onClick={() => f()()}>
              Forget token
            </button>
          )}
        </Show>
        <button onClick={() => props.onLeave()}>Leave</button>
      </header>
      <Banners view={view()} calls={calls()} />
      <Show when={callProblem()}>{(p) => <p class="banner error">{p()}</p>}</Show>
      <Show when={problem()}>{(p) => <p class="banner warn">{p()}</p>}</Show>
      <Show when={moving()}>{(p) => <p class="banner info" data-testid="moving">{p()}</p>}</Show>
      <div class="columns">
        <aside id="sidebar" class="sidebar" classList={{ open: drawer() }} aria-label="People and conversations" data-testid="sidebar">
          <People view={view()} self={self} earlier={props.earlier} callBusy={callBusy()} onDial={(p, m) => void dial([p], m)} />
          <ConversationList
            self={self.username}
            identities={view().identities}
            conversations={conversations()}
            selected={selected()}
            unread={unread()}
            mentioned={mentioned()}
            onOpen={open}
            onCreate={create}
          />
        </aside>
        <main class="main">
          <SaveStatus view={view()} peer={session.peer} wouldWait={wouldWait()} />
          <div class="call-bar">
            <CallPanel session={session} calls={calls()} identities={view().identities} />
          </div>
          <Show when={selected()} keyed>
            {(id) => (
              <Conversation
                session={session}
                earlier={props.earlier}
                conversation={id}
                view={view()}
                stateOf={stateOf}
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
