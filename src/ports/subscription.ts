/**
 * How ports publish events: a subscription is live when it returns, so whatever happens
 * after that is in its stream (nobody needs to wait "for a subscriber to start"), and it
 * ends with the caller's scope.
 */
import { Effect, PubSub, Stream, type Scope } from "effect"

/** Subscribes now; the stream carries everything published from then on, until the scope closes. */
export type Subscribe<A> = Effect.Effect<Stream.Stream<A>, never, Scope.Scope>

/** A subscription to `pubsub`: what adapters that publish through a PubSub return. */
export const subscribeTo = <A>(pubsub: PubSub.PubSub<A>): Subscribe<A> => Effect.map(PubSub.subscribe(pubsub), (queue) => Stream.fromQueue(queue))
