/**
 * The pure Session API against the 4.5.7 rules of BEHAVIOUR §2 and
 * SESSION_FORMAT §4.
 */
import { describe, expect, it } from "@effect/vitest"
import { Result } from "effect"
import * as Message from "../../schemas/Message.ts"
import type * as Provenance from "../../schemas/Provenance.ts"
import * as RlmConfig from "../../schemas/RlmConfig.ts"
import * as Session from "../../schemas/Session.ts"
import * as SessionJson from "../../schemas/SessionJson.ts"
import * as Timestamp from "../../schemas/Timestamp.ts"

const at = (seconds: number): Timestamp.Timestamp =>
  Timestamp.fromEpochNanos(BigInt(Date.UTC(2026, 2, 1) / 1000 + seconds) * 1_000_000_000n + 123_456_789n)

const ID = "3f2b8c1e-9a4d-4e6f-8b1a-2c3d4e5f6a7b"
const PROV_UUID = "9C1D2E3F-4A5B-4C6D-8E7F-0A1B2C3D4E5F"

const made = (env?: Provenance.ProvenanceEnv) =>
  Session.make({ id: ID, now: at(0), directory: "/work/orbit", provenanceUuid: PROV_UUID, env })

const deepFreeze = <A>(value: A): A => {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key])
  }
  return value
}

/** A frozen session plus its encoding, to prove an operation left it untouched. */
const frozen = (session: Session.Session) => {
  const before = SessionJson.encodeToString(session)
  const value = deepFreeze(session)
  return { value, unchanged: () => expect(SessionJson.encodeToString(value)).toBe(before) }
}

const user = (...parts: ReadonlyArray<Message.ContentPart>): Message.Message => ({ role: "user", content: parts })
const text = (value: string): Message.ContentPart => ({ type: "text", text: value })
const image: Message.ContentPart = { type: "image", url: "data:image/png;base64,AAAA", mimeType: "image/png" }

const withMessages = (session: Session.Session, ...messages: ReadonlyArray<Message.Message>) =>
  messages.reduce((s, m, i) => Session.addMessage(s, m, at(10 + i)), session)

describe("Session.make (4.5.7 Session::new)", () => {
  it("builds an empty build-agent session with the in-memory defaults", () => {
    const session = made()
    expect(session.id).toBe(ID)
    expect(session.title).toBeNull()
    expect(session.createdAt).toBe(at(0))
    expect(session.updatedAt).toBe(at(0))
    expect(session.agent).toBe("build")
    expect(session.messages).toEqual([])
    expect(session.toolUses).toEqual([])
    expect(session.usage).toEqual({
      promptTokens: 0,
      completionTokens: 0,
      totalTokens: 0,
      cacheReadTokens: null,
      cacheWriteTokens: null
    })
    const { provenance, ...metadata } = session.metadata
    expect(metadata).toEqual({
      directory: "/work/orbit",
      model: null,
      knowledgeSnapshot: null,
      autoApplyEdits: false,
      allowNetwork: false,
      slashAutocomplete: false,
      useWorktree: false,
      shared: false,
      shareUrl: null,
      rlm: RlmConfig.defaults
    })
    expect(provenance).toEqual({
      provenanceId: "ctprov_9c1d2e3f4a5b4c6d8e7f0a1b2c3d4e5f",
      sessionId: ID,
      taskId: null,
      runId: null,
      attemptId: null,
      issuedAt: at(0),
      identity: {
        tenantId: null,
        agentIdentityId: null,
        agentName: "build",
        origin: "local_cli",
        workerId: null,
        keyId: null,
        githubInstallationId: null,
        githubAppId: null
      }
    })
  })

  it("uses provenanceIssuedAt when given", () => {
    const session = Session.make({
      id: ID,
      now: at(0),
      directory: null,
      provenanceUuid: PROV_UUID,
      provenanceIssuedAt: at(1)
    })
    expect(session.metadata.provenance?.issuedAt).toBe(at(1))
    expect(session.metadata.directory).toBeNull()
  })

  it("seeds the provenance from the CODETETHER_* environment; a worker id makes the origin worker", () => {
    const provenance = made({
      taskId: "task-7",
      runId: "run-3",
      attemptId: "attempt-2",
      tenantId: "tenant-a",
      agentIdentityId: "ident-9",
      workerId: "worker-42",
      keyId: "key-1",
      githubInstallationId: "555",
      githubAppId: "777"
    }).metadata.provenance!
    expect(provenance.taskId).toBe("task-7")
    expect(provenance.runId).toBe("run-3")
    expect(provenance.attemptId).toBe("attempt-2")
    expect(provenance.identity).toEqual({
      tenantId: "tenant-a",
      agentIdentityId: "ident-9",
      agentName: "build",
      origin: "worker",
      workerId: "worker-42",
      keyId: "key-1",
      githubInstallationId: "555",
      githubAppId: "777"
    })
  })

  it("keeps variables that are set but empty as empty strings (origin worker for an empty worker id)", () => {
    const provenance = made({ workerId: "", taskId: "" }).metadata.provenance!
    expect(provenance.identity.origin).toBe("worker")
    expect(provenance.identity.workerId).toBe("")
    expect(provenance.taskId).toBe("")
    expect(provenance.runId).toBeNull()
  })

  it("encodes slash_autocomplete/use_worktree as false while a legacy file without them decodes as true", () => {
    const json = SessionJson.encodeToString(made())
    expect(json).toContain(`"slash_autocomplete":false,"use_worktree":false`)
    const decoded = Result.getOrThrow(SessionJson.decode(json))
    expect(decoded.metadata.slashAutocomplete).toBe(false)
    expect(decoded.metadata.useWorktree).toBe(false)

    const legacy = JSON.stringify({
      id: ID,
      title: null,
      created_at: "2026-02-03T08:12:44Z",
      updated_at: "2026-02-03T08:12:44Z",
      messages: [],
      tool_uses: [],
      usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
      agent: "build",
      metadata: { directory: "/work/orbit", model: null, shared: false, share_url: null }
    })
    const old = Result.getOrThrow(SessionJson.decode(legacy))
    expect(old.metadata.slashAutocomplete).toBe(true)
    expect(old.metadata.useWorktree).toBe(true)
    expect(old.metadata.provenance).toBeNull()
    expect(SessionJson.encodeToString(old)).toContain(`"slash_autocomplete":true,"use_worktree":true`)
  })

  it("round-trips through the file encoding unchanged", () => {
    const session = made({ workerId: "w" })
    expect(Result.getOrThrow(SessionJson.decode(SessionJson.encode(session)))).toEqual(session)
  })
})

describe("Session.addMessage", () => {
  it("appends, bumps updatedAt, shares earlier messages and leaves the input unchanged", () => {
    const first = Message.text("user", "hello")
    const one = Session.addMessage(made(), first, at(5))
    const input = frozen(one)
    const second = Message.text("assistant", "hi")
    const two = Session.addMessage(input.value, second, at(9))
    expect(two.messages).toHaveLength(2)
    expect(two.messages[0]).toBe(first)
    expect(two.messages[1]).toBe(second)
    expect(two.updatedAt).toBe(at(9))
    expect(two.createdAt).toBe(at(0))
    expect(two.title).toBeNull()
    input.unchanged()
    expect(one.messages).toHaveLength(1)
    expect(one.updatedAt).toBe(at(5))
  })
})

describe("title derivation", () => {
  it("uses the first user message's text parts joined by a space, ignoring images and later messages", () => {
    const session = withMessages(
      made(),
      Message.text("system", "system prompt"),
      Message.text("assistant", "greeting"),
      user(text("Fix the"), image, text("parser\nplease")),
      user(text("second user message"))
    )
    expect(Session.deriveTitle(session)).toBe("Fix the parser\nplease")
  })

  it("keeps exactly 47 code points whole and cuts 48 to 47 + ...", () => {
    const s47 = "x".repeat(47)
    const s48 = "y".repeat(48)
    expect(Session.truncateTitle(s47)).toBe(s47)
    expect(Session.truncateTitle(s48)).toBe(`${"y".repeat(47)}...`)
    expect(Session.truncateTitle("")).toBe("")
  })

  it("counts code points, not UTF-16 units: 47 astral characters stay whole", () => {
    const emoji = "😀".repeat(47) // 94 UTF-16 units
    expect(Session.truncateTitle(emoji)).toBe(emoji)
    expect(Session.truncateTitle(`${emoji}!`)).toBe(`${emoji}...`)
  })

  it("cuts inside a ZWJ emoji sequence at a code-point boundary, as 4.5.7 does", () => {
    // family = man, ZWJ, woman, ZWJ, girl: 5 code points, 8 UTF-16 units, 1 grapheme
    const family = "\u{1F468}\u200D\u{1F469}\u200D\u{1F467}"
    const title = Session.truncateTitle(`${"a".repeat(44)}${family} tail`)
    // 44 + 3 code points of the sequence = 47: man, ZWJ, woman
    expect(title).toBe(`${"a".repeat(44)}\u{1F468}\u200D\u{1F469}...`)
    expect(Array.from(title.slice(0, -3))).toHaveLength(47)
    expect(title.isWellFormed()).toBe(true)
    // a UTF-16 cut (str.slice(0, 47)) would have kept man + ZWJ only
    expect(`${"a".repeat(44)}${family}`.slice(0, 47)).toBe(`${"a".repeat(44)}\u{1F468}\u200D`)

    // 46 letters: the cut keeps the man and drops the rest; a UTF-16 cut would split his surrogate pair
    const cut = Session.truncateTitle(`${"b".repeat(46)}${family}`)
    expect(cut).toBe(`${"b".repeat(46)}\u{1F468}...`)
    expect(cut.isWellFormed()).toBe(true)
    expect(`${"b".repeat(46)}${family}`.slice(0, 47).isWellFormed()).toBe(false)
  })

  it("generateTitle derives only when the title is null and never bumps updatedAt", () => {
    const session = withMessages(made(), user(text("Explain the build")))
    const input = frozen(session)
    const titled = Session.generateTitle(input.value)
    expect(titled.title).toBe("Explain the build")
    expect(titled.updatedAt).toBe(session.updatedAt)
    input.unchanged()
    const kept = Session.generateTitle(Session.setTitle(session, "Custom", at(50)))
    expect(kept.title).toBe("Custom")
  })

  it("generateTitle leaves a session without user messages untitled", () => {
    const session = withMessages(made(), Message.text("assistant", "hi"))
    expect(Session.generateTitle(session)).toBe(session)
    expect(Session.generateTitle(session).title).toBeNull()
  })

  it("a first user message without text gives the empty title, which generateTitle never replaces", () => {
    const session = withMessages(made(), user(image))
    const titled = Session.generateTitle(session)
    expect(titled.title).toBe("")
    const later = Session.generateTitle(Session.addMessage(titled, user(text("now with text")), at(99)))
    expect(later.title).toBe("")
  })

  it("regenerateTitle replaces an existing title and keeps it when there is no user message", () => {
    const session = Session.setTitle(withMessages(made(), user(text("Real topic"))), "Old", at(20))
    const input = frozen(session)
    const regenerated = Session.regenerateTitle(input.value)
    expect(regenerated.title).toBe("Real topic")
    expect(regenerated.updatedAt).toBe(at(20))
    input.unchanged()
    const noUser = Session.setTitle(made(), "Keep me", at(30))
    expect(Session.regenerateTitle(noUser).title).toBe("Keep me")
  })

  it("setTitle and clearTitle bump updatedAt; a cleared title is derived again", () => {
    const session = withMessages(made(), user(text("Topic")))
    const input = frozen(session)
    const set = Session.setTitle(input.value, "Named", at(40))
    expect(set.title).toBe("Named")
    expect(set.updatedAt).toBe(at(40))
    const cleared = Session.clearTitle(set, at(41))
    expect(cleared.title).toBeNull()
    expect(cleared.updatedAt).toBe(at(41))
    expect(Session.generateTitle(cleared).title).toBe("Topic")
    input.unchanged()
  })

  it("onContextChange bumps updatedAt and regenerates the title only when asked", () => {
    const session = Session.setTitle(withMessages(made(), user(text("Topic"))), "Old", at(20))
    const input = frozen(session)
    const plain = Session.onContextChange(input.value, false, at(60))
    expect(plain.updatedAt).toBe(at(60))
    expect(plain.title).toBe("Old")
    const regenerated = Session.onContextChange(input.value, true, at(61))
    expect(regenerated.updatedAt).toBe(at(61))
    expect(regenerated.title).toBe("Topic")
    input.unchanged()
  })
})

describe("agent name and provenance", () => {
  const legacy = (): Session.Session => ({ ...made(), metadata: { ...made().metadata, provenance: null } })

  it("setAgentName sets the agent and the provenance identity, without bumping updatedAt", () => {
    const input = frozen(made())
    const renamed = Session.setAgentName(input.value, "plan")
    expect(renamed.agent).toBe("plan")
    expect(renamed.metadata.provenance?.identity.agentName).toBe("plan")
    expect(renamed.updatedAt).toBe(at(0))
    input.unchanged()
    const old = Session.setAgentName(legacy(), "plan")
    expect(old.agent).toBe("plan")
    expect(old.metadata.provenance).toBeNull()
  })

  it("attachWorkerTaskProvenance marks the origin worker and records worker and task", () => {
    const input = frozen(made({ runId: "run-1", tenantId: "tenant-a" }))
    const attached = Session.attachWorkerTaskProvenance(input.value, "worker-9", "task-3")
    const provenance = attached.metadata.provenance!
    expect(provenance.identity.origin).toBe("worker")
    expect(provenance.identity.workerId).toBe("worker-9")
    expect(provenance.taskId).toBe("task-3")
    expect(provenance.runId).toBe("run-1")
    expect(provenance.identity.tenantId).toBe("tenant-a")
    expect(provenance.provenanceId).toBe(input.value.metadata.provenance!.provenanceId)
    expect(attached.updatedAt).toBe(at(0))
    input.unchanged()
  })

  it("attachClaimProvenance takes the claim's values when present and keeps the existing ones otherwise", () => {
    const input = frozen(made({ runId: "run-0", attemptId: "attempt-0", tenantId: "tenant-0", agentIdentityId: "id-0" }))
    const partial = Session.attachClaimProvenance(input.value, {
      workerId: "worker-1",
      taskId: "task-1",
      runId: "run-1",
      attemptId: null
    }).metadata.provenance!
    expect(partial.identity.origin).toBe("worker")
    expect(partial.identity.workerId).toBe("worker-1")
    expect(partial.taskId).toBe("task-1")
    expect(partial.runId).toBe("run-1")
    expect(partial.attemptId).toBe("attempt-0")
    expect(partial.identity.tenantId).toBe("tenant-0")
    expect(partial.identity.agentIdentityId).toBe("id-0")

    const full = Session.attachClaimProvenance(input.value, {
      workerId: "worker-2",
      taskId: "task-2",
      runId: "run-2",
      attemptId: "attempt-2",
      tenantId: "tenant-2",
      agentIdentityId: "id-2"
    }).metadata.provenance!
    expect([full.runId, full.attemptId, full.identity.tenantId, full.identity.agentIdentityId]).toEqual([
      "run-2",
      "attempt-2",
      "tenant-2",
      "id-2"
    ])
    input.unchanged()
  })

  it("attachClaimProvenance fills fields that were null", () => {
    const provenance = Session.attachClaimProvenance(made(), {
      workerId: "w",
      taskId: "t",
      tenantId: "tenant"
    }).metadata.provenance!
    expect(provenance.identity.tenantId).toBe("tenant")
    expect(provenance.runId).toBeNull()
    expect(provenance.identity.agentIdentityId).toBeNull()
  })

  it("provenance attachments are silent no-ops for sessions without provenance", () => {
    const input = frozen(legacy())
    expect(Session.attachWorkerTaskProvenance(input.value, "w", "t")).toBe(input.value)
    expect(Session.attachClaimProvenance(input.value, { workerId: "w", taskId: "t", runId: "r" })).toBe(input.value)
    input.unchanged()
  })
})

describe("Session.applyConfig", () => {
  const rlm: RlmConfig.RlmConfig = {
    mode: "always",
    threshold: 0.5,
    maxIterations: 3,
    maxSubcalls: 7,
    runtime: "bun",
    rootModel: "openai/gpt-4o",
    subcallModel: "openai/gpt-4o-mini"
  }

  it("copies the RLM settings into metadata without bumping updatedAt", () => {
    const session = withMessages(made(), user(text("x")))
    const input = frozen(session)
    const applied = Session.applyConfig(input.value, rlm)
    expect(applied.metadata.rlm).toEqual(rlm)
    expect(applied.updatedAt).toBe(session.updatedAt)
    expect(applied.messages[0]).toBe(session.messages[0])
    expect(SessionJson.encodeToString(applied)).toContain(
      `"rlm":{"mode":"always","threshold":0.5,"max_iterations":3,"max_subcalls":7,"runtime":"bun","root_model":"openai/gpt-4o","subcall_model":"openai/gpt-4o-mini"}`
    )
    input.unchanged()
  })

  it("is idempotent: applying the same settings again returns the same session", () => {
    const once = Session.applyConfig(made(), rlm)
    const twice = Session.applyConfig(once, { ...rlm })
    expect(twice).toBe(once)
    expect(SessionJson.encodeToString(twice)).toBe(SessionJson.encodeToString(once))
  })

  it("replaces the whole object: applying defaults restores them", () => {
    const back = Session.applyConfig(Session.applyConfig(made(), rlm), RlmConfig.defaults)
    expect(back.metadata.rlm).toEqual(RlmConfig.defaults)
  })
})
