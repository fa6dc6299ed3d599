/**
 * One conversation: its history (what this device holds, and older pages read from the
 * repository as the reader scrolls back), who is typing, a call with everyone here, and
 * the composer.
 */
import { createEffect, createSignal, For, on, Show } from "solid-js"
import { Option } from "effect"
import type { PeerView } from "../../app/peer-state.js"
import { involves, otherUser, titleOf } from "../../domain/conversation.js"
import { sameUser, type PeerId } from "../../domain/identity.js"
import { mergeQueues, MAX_MESSAGE_TEXT, type ConversationId, type Message } from "../../domain/message.js"
import { typingDue, typingText } from "../../domain/typing.js"
import { applyDelta } from "../../domain/timeline.js"
import type { HistoryCursor } from "../../app/peer.js"
import { onEach, run } from "../bridge.js"
import type { Session } from "../services.js"
import { MessageText } from "./MessageText.js"
import { MessageStatus } from "./MessageStatus.js"
import type { MessageState } from "../../app/message-state.js"
import { Unverified } from "./Unverified.js"

/** Messages of the device's store shown per conversation (older ones come from the repository). */
export const HISTORY_SHOWN = 300
/** How close to the top (px) a scroll must come to read the next older page. */
const PAGE_TRIGGER_PX = 48

const time = (at: number): string => {
  const d = new Date(at)
  const today = new Date().toDateString() === d.toDateString()
  return today ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : d.toLocaleString([], { dateStyle: "short", timeStyle: "short" })
}

/** Where paging back stands: not started, at a cursor, or at the conversation's first file. */
type Paging = { readonly _tag: "fresh" } | { readonly _tag: "at"; readonly cursor: HistoryCursor } | { readonly _tag: "start" }

export const Conversation = (props: {
  readonly session: Session
  /** Sessions this tab ran before as this login: their messages are this person's own too. */
  readonly earlier: ReadonlySet<string>
  readonly conversation: ConversationId
  readonly view: PeerView
  /** Where a message stands (sending, delivered, saved); unknown until the peer says. */
  readonly stateOf?: (m: Message) => MessageState | undefined
  readonly typists: ReadonlyArray<string>
  readonly callBusy: boolean
  readonly onDial: (peers: ReadonlyArray<PeerId>, media: "audio" | "video") => void
  readonly onFirstSend: () => void
}) => {
  const self = props.session.self
  const isMine = (m: Message): boolean => sameUser(m.author, self.username) && (m.session === self.sessionId || props.earlier.has(m.session))
  const title = () => titleOf(props.conversation, self.username)
  // What the device holds, then each new message as a delta (the component lives for one conversation).
  const [local, setLocal] = createSignal<ReadonlyArray<Message>>([])
  onEach(props.session.peer.timeline(props.conversation, HISTORY_SHOWN), (delta) =>
    setLocal((shown) => applyDelta(shown, delta, props.conversation, HISTORY_SHOWN))
  )
  const [older, setOlder] = createSignal<ReadonlyArray<Message>>([])
  const [paging, setPaging] = createSignal<Paging>({ _tag: "fresh" })
  const [loading, setLoading] = createSignal(false)
  const [pageProblem, setPageProblem] = createSignal<string | undefined>()
  const messages = () => mergeQueues(local(), older())
  const [text, setText] = createSignal("")
  const [problem, setProblem] = createSignal<string | undefined>()
  let list: HTMLOListElement | undefined
  let stickToBottom = true
  let lastTypingAt: number | undefined

  /** Reads the next older page from the repository, keeping what the reader looks at in place. */
  const loadOlder = async () => {
    const p = paging()
    if (loading() || p._tag === "start") return
    setLoading(true)
    const fromBottom = list === undefined ? 0 : list.scrollHeight - list.scrollTop
    try {
      const page = await run(props.session.peer.archive.readPage(props.conversation, p._tag === "at" ? Option.some(p.cursor) : Option.none()))
      setOlder((o) => mergeQueues(o, page.messages))
      setPaging(Option.match(page.older, { onNone: () => ({ _tag: "start" }) as Paging, onSome: (cursor) => ({ _tag: "at", cursor }) }))
      setPageProblem(undefined)
      queueMicrotask(() => {
        if (list !== undefined && !stickToBottom) list.scrollTop = list.scrollHeight - fromBottom
      })
    } catch (e) {
      setPageProblem(e instanceof Error ? e.message : String(e))
    } finally {
      setLoading(false)
    }
  }
  // The newest page of the repository comes with the conversation: the device may hold only a day.
  void loadOlder()

  // Keep the newest message in sight while the reader is at the bottom.
  createEffect(
    on(
      () => messages().length,
      () =>
        queueMicrotask(() => {
          if (list !== undefined && stickToBottom) list.scrollTop = list.scrollHeight
        })
    )
  )

  const onScroll = () => {
    if (list === undefined) return
    stickToBottom = list.scrollHeight - list.scrollTop - list.clientHeight < PAGE_TRIGGER_PX
    if (list.scrollTop < PAGE_TRIGGER_PX) void loadOlder()
  }

  /** Everyone open in this conversation, for a call. */
  const here = (): ReadonlyArray<PeerId> =>
    props.view.links.filter((l) => l.state === "open" && !sameUser(l.peer.username, self.username) && involves(props.conversation, l.peer.username)).map((l) => l.peer)

  const typed = (value: string) => {
    setText(value)
    const at = Date.now()
    if (value.trim() !== "" && typingDue(lastTypingAt, at)) {
      lastTypingAt = at
      void run(props.session.peer.sendActivity("typing", props.conversation))
    }
  }

  const send = async () => {
    const body = text().trim()
    if (body === "") return
    setText("")
    lastTypingAt = undefined
    stickToBottom = true
    props.onFirstSend()
    try {
      const to = Option.getOrUndefined(otherUser(props.conversation, self.username))
      await run(props.session.peer.send(props.conversation, body, to === undefined ? undefined : { username: to }))
      setProblem(undefined)
    } catch (e) {
      setText(body)
      setProblem(e instanceof Error ? e.message : String(e))
    }
  }

  return (
    <section class="conversation" aria-labelledby="conversation-title" data-testid="conversation" data-conversation={props.conversation}>
      <header class="conversation-head row">
        <h2 id="conversation-title">{title()}</h2>
        <span class="grow" />
        <button
          disabled={props.callBusy || here().length === 0}
          data-testid="call-here-audio"
          title={here().length === 0 ? "Nobody in this conversation is connected" : `Audio call with ${here().map((p) => p.username).join(", ")}`}
          onClick={() => props.onDial(here(), "audio")}
        >
          Call
        </button>
        <button
          disabled={props.callBusy || here().length === 0}
          data-testid="call-here-video"
          title={here().length === 0 ? "Nobody in this conversation is connected" : `Video call with ${here().map((p) => p.username).join(", ")}`}
          onClick={() => props.onDial(here(), "video")}
        >
          Video call
        </button>
      </header>
      <ol class="messages" data-testid="messages" ref={list} onScroll={onScroll} tabIndex={0} aria-label={`Messages in ${title()}`}>
        <li class="paging">
          <Show
            when={paging()._tag !== "start"}
            fallback={<span class="muted small">Start of {title()}.</span>}
          >
            <button class="link" data-testid="load-older" disabled={loading()} onClick={() => void loadOlder()}>
              {loading() ? "Loading older messages…" : "Load older messages"}
            </button>
          </Show>
          <Show when={pageProblem()}>{(p) => <span class="error small"> Could not read older history: {p()}</span>}</Show>
        </li>
        <For each={messages()} fallback={<li class="muted">No messages yet. Say hello!</li>}>
          {(m) => (
            // Mine by session, not login: in file form anyone may claim this login in another session.
            // This tab's earlier sessions (before a reload) are this session's own predecessors.
            <li class="message" classList={{ mine: isMine(m) }} data-testid="message">
              <span class="author">{m.author}</span>
              <Show when={!isMine(m)}>
                <Unverified identities={props.view.identities} />
              </Show>
              <time class="muted small" datetime={new Date(m.sentAt).toISOString()}>
                {time(m.sentAt)}
              </time>
              <MessageText text={m.text} self={self.username} />
              <Show when={props.stateOf}>{(of) => <MessageStatus state={of()(m)} />}</Show>
            </li>
          )}
        </For>
      </ol>
      <p class="typing muted small" data-testid="typing" aria-live="polite">
        <Show when={props.typists.length > 0}>
          <span>{typingText(props.typists)}</span> <Unverified identities={props.view.identities} />
        </Show>
      </p>
      <Show when={problem()}>{(p) => <p class="banner error">Not sent: {p()}</p>}</Show>
      <form
        class="composer"
        onSubmit={(e) => {
          e.preventDefault()
          void send()
        }}
      >
        <textarea
          data-testid="composer"
          rows={2}
          maxLength={MAX_MESSAGE_TEXT}
          aria-label={`Message ${title()}`}
          placeholder={`Message ${title()} (Enter sends, Shift+Enter for a new line)`}
          value={text()}
          onInput={(e) => typed(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey) {
              e.preventDefault()
              void send()
            }
          }}
        />
        <button type="submit" class="primary" data-testid="send" disabled={text().trim() === ""}>
          Send
        </button>
      </form>
    </section>
  )
}
