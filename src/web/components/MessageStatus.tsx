/** A message's state beside it: sending (nobody else has it), delivered (someone does), saved (committed, linked). */
import { Match, Switch } from "solid-js"
import type { MessageState } from "../../app/message-state.js"

const HELP = {
  sending: "sending: no one else has this message yet",
  delivered: "delivered: at least one other person's device has it; not saved to the repository yet",
  saved: "saved: committed to the repository's history"
} as const

export const MessageStatus = (props: { readonly state: MessageState | undefined }) => (
  <span class={`msg-state ${props.state?._tag ?? "unknown"}`} data-testid="message-state" data-state={props.state?._tag ?? "unknown"}>
    <Switch>
      <Match when={props.state?._tag === "sending"}>
        <span title={HELP.sending}>sending…</span>
      </Match>
      <Match when={props.state?._tag === "delivered"}>
        <span title={HELP.delivered}>delivered</span>
      </Match>
      <Match when={props.state?._tag === "saved" && props.state}>
        {(s) => {
          const saved = s() as Extract<MessageState, { _tag: "saved" }>
          return saved.url !== undefined ? (
            <a href={saved.url} target="_blank" rel="noopener noreferrer" title={`${HELP.saved} (commit ${saved.sha?.slice(0, 7) ?? ""})`} data-testid="saved-link">
              saved
            </a>
          ) : (
            <span title={HELP.saved}>saved</span>
          )
        }}
      </Match>
    </Switch>
  </span>
)
