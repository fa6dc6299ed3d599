/** The repository's conversations with unread counts, and a form to start a named one. */
import { createSignal, For, Show } from "solid-js"
import { Either, Option } from "effect"
import { kindOf, namedConversation, MAX_CONVERSATION_NAME, titleOf } from "../../domain/conversation.js"
import type { ConversationId } from "../../domain/message.js"
import type { PeerView } from "../../app/peer-state.js"
import { Unverified } from "./Unverified.js"

/** What the test ids of a conversation's button end with: its id. */
export const conversationTestId = (id: ConversationId): string => `conversation-${id}`

export const ConversationList = (props: {
  readonly self: string
  /** Whether other sessions' logins are claims (file form): a direct conversation's other user is tagged. */
  readonly identities: PeerView["identities"]
  readonly conversations: ReadonlyArray<ConversationId>
  readonly selected: ConversationId
  readonly unread: ReadonlyMap<string, number>
  readonly mentioned: ReadonlySet<string>
  readonly onOpen: (id: ConversationId) => void
  readonly onCreate: (id: ConversationId) => void
}) => {
  const [name, setName] = createSignal("")
  const [problem, setProblem] = createSignal<string | undefined>()
  const create = () => {
    Either.match(namedConversation(name()), {
      onLeft: (reason) => setProblem(reason),
      onRight: (id) => {
        setProblem(undefined)
        setName("")
        props.onCreate(id)
      }
    })
  }
  return (
    <section aria-labelledby="conversations-heading">
      <h3 id="conversations-heading">Conversations</h3>
      <ul class="conversations" data-testid="conversations">
        <For each={props.conversations}>
          {(id) => {
            const count = () => props.unread.get(id) ?? 0
            return (
              <li>
                <button
                  classList={{ active: props.selected === id }}
                  aria-current={props.selected === id ? "page" : undefined}
                  onClick={() => props.onOpen(id)}
                  data-testid={conversationTestId(id)}
                >
                  <span class="title">{titleOf(id, props.self)}</span>
                  <Show when={Option.exists(kindOf(id), (k) => k._tag === "direct")}>
                    <Unverified identities={props.identities} />
                  </Show>
                  <Show when={count() > 0}>
                    <span class="badge" classList={{ mention: props.mentioned.has(id) }} data-testid="unread" aria-label={`${count()} unread${props.mentioned.has(id) ? ", you are mentioned" : ""}`}>
                      {props.mentioned.has(id) ? "@ " : ""}
                      {count()}
                    </span>
                  </Show>
                </button>
              </li>
            )
          }}
        </For>
      </ul>
      <form
        class="new-conversation"
        onSubmit={(e) => {
          e.preventDefault()
          create()
        }}
      >
        <label for="new-conversation">New conversation</label>
        <div class="row nowrap">
          <input
            id="new-conversation"
            data-testid="new-conversation"
            maxLength={MAX_CONVERSATION_NAME}
            placeholder="topic, e.g. release-2"
            value={name()}
            onInput={(e) => setName(e.currentTarget.value)}
          />
          <button type="submit" data-testid="create-conversation" disabled={name().trim() === ""}>
            Start
          </button>
        </div>
        <Show when={problem()}>{(p) => <p class="error small" role="alert">{p()}</p>}</Show>
      </form>
    </section>
  )
}
