/**
 * A message's text as DOM nodes, from the markdown-lite parse: text only ever becomes
 * text nodes (Solid sets them as data, never as HTML), links only of safe schemes, and
 * mentions of the signed-in user are marked.
 */
import { For, Match, Switch } from "solid-js"
import { parseMessage, type Inline } from "../markdown.js"

const InlinePiece = (props: { readonly inline: Inline; readonly self: string }) => (
  <Switch>
    <Match when={props.inline._tag === "text" && props.inline}>{(i) => i().text}</Match>
    <Match when={props.inline._tag === "code" && props.inline}>{(i) => <code>{i().text}</code>}</Match>
    <Match when={props.inline._tag === "link" && props.inline}>
      {(i) => (
        <a href={i().href} target="_blank" rel="noopener noreferrer nofollow">
          {i().text}
        </a>
      )}
    </Match>
    <Match when={props.inline._tag === "mention" && props.inline}>
      {(i) => (
        <span class="mention" classList={{ me: i().login.toLowerCase() === props.self.toLowerCase() }} data-testid="mention">
          @{i().login}
        </span>
      )}
    </Match>
    <Match when={props.inline._tag === "break"}>
      <br />
    </Match>
  </Switch>
)

/** The rendered text of one message. */
export const MessageText = (props: { readonly text: string; readonly self: string }) => (
  <div class="text">
    <For each={parseMessage(props.text)}>
      {(block) =>
        block._tag === "code" ? (
          <pre>
            <code>{block.text}</code>
          </pre>
        ) : (
          <p>
            <For each={block.inlines}>{(inline) => <InlinePiece inline={inline} self={props.self} />}</For>
          </p>
        )
      }
    </For>
  </div>
)
