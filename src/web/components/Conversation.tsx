/** One conversation: its history as this device holds it, and the composer. */
import { createEffect, createResource, createSignal, For, on, Show } from "solid-js"
import type { Username } from "../../domain/identity.js"
import type { ConversationId, Message } from "../../domain/message.js"
import { MAX_MESSAGE_TEXT } from "../../domain/message.js"
import { run } from "../bridge.js"
import type { Session } from "../services.js"

/** Messages shown per conversation. */
export const HISTORY_SHOWN = 300

/** A conversation as the sidebar lists it; `to` is the other user of a direct conversation. */
export interface ConversationRef {
  readonly id: ConversationId
  readonly title: string
  readonly to: Username | undefined
}

const time = (at: number): string => {
  const d = new Date(at)
  const today = new Date().toDateString() === d.toDateString()
  return today ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : d.toLocaleString([], { dateStyle: "short", timeStyle: "short" })
}

export const Conversation = (props: { readonly session: Session; readonly conversation: ConversationRef; readonly version: number }) => {
  const [messages] = createResource(
    () => [props.conversation.id, props.version] as const,
    ([id]) => run(props.session.peer.history(id, HISTORY_SHOWN)),
    { initialValue: [] as ReadonlyArray<Message> }
  )
  const [text, setText] = createSignal("")
  const [problem, setProblem] = createSignal<string | undefined>()
  let list: HTMLOListElement | undefined

  // Keep the newest message in sight.
  createEffect(on(() => messages.latest.length, () => queueMicrotask(() => list?.scrollTo({ top: list.scrollHeight }))))

  const send = async () => {
    const body = text().trim()
    if (body === "") return
    setText("")
    try {
      const to = props.conversation.to
      await run(props.session.peer.send(props.conversation.id, body, to === undefined ? undefined : { username: to }))
      setProblem(undefined)
    } catch (e) {
      setText(body)
      setProblem(e instanceof Error ? e.message : String(e))
    }
  }

  return (
    <div class="conversation">
      <h2>{props.conversation.title}</h2>
      <ol class="messages" data-testid="messages" ref={list}>
        <For each={messages.latest} fallback={<li class="muted">No messages yet. Say hello!</li>}>
          {(m) => (
            <li class="message" classList={{ mine: m.author === props.session.self.username }} data-testid="message">
              <span class="author">{m.author}</span>
              <time class="muted small">{time(m.sentAt)}</time>
              <p class="text">{m.text}</p>
            </li>
          )}
        </For>
      </ol>
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
          placeholder={`Message ${props.conversation.title}`}
          value={text()}
          onInput={(e) => setText(e.currentTarget.value)}
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
    </div>
  )
}
