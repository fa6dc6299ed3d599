/** The presence form belongs to the repository: the first choice is recorded and everyone after joins it. */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { MemoryGitHub } from "../../src/adapters/memory/github-world.js"
import { makeMemoryRepoSettings } from "../../src/adapters/memory/repo-settings.js"
import { changeForm, settleForm } from "../../src/app/presence-form.js"
import { Username } from "../../src/domain/identity.js"

describe("presence form", () => {
  it.effect("the first user's pick is recorded; the second joins it whatever they picked; a change moves the record", () =>
    Effect.gen(function* () {
      const world = new MemoryGitHub({ latencyMs: 0 })
      const alice = makeMemoryRepoSettings(world, "alice")
      const bob = makeMemoryRepoSettings(world, "bob")
      const first = yield* settleForm(alice, "discussion", Username.make("alice"), 1)
      expect(first).toMatchObject({ form: "discussion", choseNow: true })
      const second = yield* settleForm(bob, "file", Username.make("bob"), 2)
      expect(second).toMatchObject({ form: "discussion", choseNow: false })
      expect(second.recorded.settings.chosenBy).toBe("alice")
      yield* changeForm(bob, "file", Username.make("bob"), 3, second.recorded.version)
      expect((yield* settleForm(alice, "discussion", Username.make("alice"), 4)).form).toBe("file")
    })
  )

  it.effect("two first choices at once: the loser joins the winner's form", () =>
    Effect.gen(function* () {
      const world = new MemoryGitHub({ latencyMs: 0 })
      const alice = makeMemoryRepoSettings(world, "alice")
      // Bob read "nothing recorded" just before alice wrote: his write conflicts and he joins hers.
      const raced = { ...makeMemoryRepoSettings(world, "bob"), read: Effect.succeed(Option.none()) }
      let reads = 0
      const bob = { ...raced, read: Effect.suspend(() => (reads++ === 0 ? raced.read : makeMemoryRepoSettings(world, "bob").read)) }
      yield* settleForm(alice, "file", Username.make("alice"), 1)
      const settled = yield* settleForm(bob, "discussion", Username.make("bob"), 2)
      expect(settled).toMatchObject({ form: "file", choseNow: false })
    })
  )
})
