/**
 * The "unverified" tag beside another session's login. In file form a presence entry only
 * claims its login (nothing GitHub vouches for ties the two), so every place that shows
 * another session's name (people, message authors, direct conversations, calls, typing)
 * shows this tag next to it.
 */
import { Show } from "solid-js"
import type { PeerView } from "../../app/peer-state.js"

/** What the tag's tooltip says. */
export const UNVERIFIED_HELP = "the presence file does not prove who this is"

/** Renders the tag when `identities` are claims (file form). */
export const Unverified = (props: { readonly identities: PeerView["identities"] }) => (
  <Show when={props.identities === "claimed"}>
    <span class="tag unverified" title={UNVERIFIED_HELP} data-testid="unverified">
      unverified
    </span>
  </Show>
)

/** A login as plain text (a notification title, a video tile's label): with "(unverified)" when it is a claim. */
export const claimedName = (login: string, identities: PeerView["identities"]): string =>
  identities === "claimed" ? `${login} (unverified)` : login
