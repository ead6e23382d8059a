/**
 * The redactor against the secret corpus: every kind in every context is
 * replaced by its marker with the text around it kept exactly; near-misses
 * are returned unchanged; environment values; messages and tool uses.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Redaction from "../../schemas/Redaction.ts"
import type { Message } from "../../schemas/Message.ts"
import * as Corpus from "../utils/SecretCorpus.ts"

describe("Redaction corpus", () => {
  it("has a positive for every kind and every context, and near-misses", () => {
    const patternKinds = Redaction.kinds.filter((k) => k !== "env")
    expect(new Set(Corpus.secrets.map((s) => s.kind))).toEqual(new Set(patternKinds))
    expect(Corpus.secrets.length * Corpus.contexts.length).toBeGreaterThanOrEqual(200)
    expect(Corpus.nearMisses.length).toBeGreaterThanOrEqual(20)
  })

  for (const secret of Corpus.secrets) {
    it(`redacts ${secret.kind}: ${secret.name}, in every context, keeping the text around it`, () => {
      for (const context of Corpus.contexts) {
        const text = Corpus.place(context.template, secret.value, context.json)
        const redacted = Redaction.redactText(text)
        const occurrences = context.template.split("{}").length - 1
        expect(redacted.value, `${context.name}`).toBe(context.template.replaceAll("{}", Redaction.marker(secret.kind)))
        expect(redacted.counts, context.name).toEqual({ [secret.kind]: occurrences })
        expect(redacted.total).toBe(occurrences)
        if (context.json) expect(() => JSON.parse(redacted.value)).not.toThrow()
      }
    })
  }

  for (const miss of Corpus.nearMisses) {
    it(`keeps a near-miss: ${miss.name}`, () => {
      const redacted = Redaction.redactText(miss.text)
      expect(redacted.total).toBe(0)
      expect(redacted.value).toBe(miss.text)
    })
  }

  it("keeps near-misses next to a secret", () => {
    const aws = Corpus.secrets.find((s) => s.kind === "aws")!.value
    const text = `task-42 at 4f1c2e9a7b3d5c8e0f6a1b2c3d4e5f60718293a4 used ${aws} for 30210cd6-1912-46b7-8b72-34bf998a507a`
    expect(Redaction.redactText(text).value).toBe(
      "task-42 at 4f1c2e9a7b3d5c8e0f6a1b2c3d4e5f60718293a4 used [REDACTED:aws] for 30210cd6-1912-46b7-8b72-34bf998a507a"
    )
  })
})

describe("Redaction details", () => {
  const ghp = Corpus.secrets.find((s) => s.name === "personal access token")!.value

  it("a secret glued to an identifier is not a token; one after a JSON escape or punctuation is", () => {
    expect(Redaction.redactText(`x${ghp}`).total).toBe(0)
    expect(Redaction.redactText(`my_${ghp}`).total).toBe(0)
    expect(Redaction.redactText(`"a\\n${ghp}"`).value).toBe("\"a\\n[REDACTED:github]\"")
    expect(Redaction.redactText(`https://x-access-token:${ghp}@github.com/o/r.git`).value).toBe(
      "https://x-access-token:[REDACTED:github]@github.com/o/r.git"
    )
  })

  it("the AWS secret access key is recognised after its name, and only the value is replaced", () => {
    const secret = Corpus.chars(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
    for (const line of [`aws_secret_access_key = ${secret}`, `AWS_SECRET_ACCESS_KEY=${secret}`, `"SecretAccessKey": "${secret}"`]) {
      const redacted = Redaction.redactText(line)
      expect(redacted.value).toBe(line.replace(secret, "[REDACTED:aws]"))
      expect(redacted.counts).toEqual({ aws: 1 })
    }
    // 40 characters without the name are not a secret (a git SHA is 40 hex characters)
    expect(Redaction.redactText(`value ${secret}`).total).toBe(0)
  })

  it("a private key without its END line is redacted up to the end of its base64 body", () => {
    const key = Corpus.secrets.find((s) => s.name === "RSA private key")!.value
    const cut = key.split("\n").slice(0, 4).join("\n")
    expect(Redaction.redactText(`${cut}\nThe command failed`).value).toBe("[REDACTED:private_key]\nThe command failed")
    expect(Redaction.redactText(`{"output":${JSON.stringify(cut)}}`).value).toBe("{\"output\":\"[REDACTED:private_key]\"}")
  })

  it("replaces the exact values of environment secrets of 16 characters or more, JSON-escaped too", () => {
    const secrets: Array<Redaction.Secret> = [
      { name: "LOCAL_LLM_KEY", value: "local-key-with-no-known-prefix-42" },
      { name: "QUOTED_KEY", value: "has\"quote\\and-backslash-0123" },
      { name: "SHORT_KEY", value: "short-value-15ch" .slice(0, 15) }
    ]
    const text = `key=local-key-with-no-known-prefix-42 args={"k":"has\\"quote\\\\and-backslash-0123"} short=short-value-15c`
    const redacted = Redaction.redactText(text, secrets)
    expect(redacted.value).toBe(
      "key=[REDACTED:env:LOCAL_LLM_KEY] args={\"k\":\"[REDACTED:env:QUOTED_KEY]\"} short=short-value-15c"
    )
    expect(redacted.counts).toEqual({ env: 2 })
    // an environment value that is also a known format counts once, as env
    const anthropic = Corpus.secrets.find((s) => s.kind === "anthropic")!.value
    const both = Redaction.redactText(`k=${anthropic}`, [{ name: "ANTHROPIC_API_KEY", value: anthropic }])
    expect([both.value, both.counts]).toEqual(["k=[REDACTED:env:ANTHROPIC_API_KEY]", { env: 1 }])
  })

  it("messages: text, thinking, tool-call arguments and tool results; images, ids and names kept; same value when clean", () => {
    const redactor = Redaction.make()
    const image = { type: "image" as const, url: `data:image/png;base64,${"A".repeat(64)}`, mimeType: "image/png" }
    const message: Message = {
      role: "assistant",
      content: [
        { type: "thinking", text: `the user gave ${ghp}` },
        { type: "text", text: "Setting it." },
        { type: "tool_call", id: "call_1", name: "bash", arguments: JSON.stringify({ command: `gh auth login --with-token ${ghp}` }) },
        image
      ]
    }
    const redacted = Redaction.message(redactor, message)
    expect(redacted.total).toBe(2)
    expect(redacted.counts).toEqual({ github: 2 })
    expect(redacted.value.content).toEqual([
      { type: "thinking", text: "the user gave [REDACTED:github]" },
      { type: "text", text: "Setting it." },
      { type: "tool_call", id: "call_1", name: "bash", arguments: "{\"command\":\"gh auth login --with-token [REDACTED:github]\"}" },
      image
    ])
    const clean: Message = { role: "user", content: [{ type: "text", text: "hello" }] }
    expect(Redaction.message(redactor, clean).value).toBe(clean)
    expect(Redaction.message(Redaction.disabled, message).value).toBe(message)
    const tool: Message = { role: "tool", content: [{ type: "tool_result", toolCallId: "call_1", content: `GH_TOKEN=${ghp}` }] }
    expect(Redaction.message(redactor, tool).value.content).toEqual([
      { type: "tool_result", toolCallId: "call_1", content: "GH_TOKEN=[REDACTED:github]" }
    ])
  })

  it("tool uses and the durable report", () => {
    const use = { id: "c1", name: "bash", input: `{"command":"echo ${ghp}"}`, output: `${ghp}\n`, success: true }
    const redacted = Redaction.toolUse(Redaction.make(), use)
    expect(redacted.value).toEqual({ ...use, input: "{\"command\":\"echo [REDACTED:github]\"}", output: "[REDACTED:github]\n" })
    expect(Redaction.report("tool_use", 0, redacted)).toEqual({ target: "tool_use", index: 0, counts: { github: 2 }, total: 2 })
    expect(Redaction.report("title", null, Redaction.string(Redaction.make(), "clean"))).toBeUndefined()
  })
})
