/**
 * Redaction of secrets in what a prompt appends to a session: the detectors,
 * the replacement `[REDACTED:<kind>]`, and the pure functions over messages,
 * tool uses and titles. No I/O: the values of the provider key variables are
 * passed in (`services/Redactor.ts` reads them through `Config`).
 *
 * What is recognised ({@link Kind}):
 * - `openai`: `sk-proj-…`, `sk-svcacct-…`, `sk-admin-…` and legacy `sk-…`
 *   keys (a body of 20 or more characters holding both a letter and a digit;
 *   other `sk-` keys of the same shape, such as DeepSeek's, count as this kind);
 * - `anthropic`: `sk-ant-<kind><nn>-…` (`sk-ant-api03-…`, `sk-ant-admin01-…`);
 * - `aws`: access key ids `AKIA…`/`ASIA…` (20 characters), and a 40-character
 *   secret access key written after `aws_secret_access_key` (any case) or
 *   `SecretAccessKey` and `=` or `:` (only the value is replaced);
 * - `github`: `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_` tokens and fine-grained
 *   `github_pat_…` tokens;
 * - `slack`: `xoxb-`, `xoxp-`, `xoxa-`, `xoxr-`, `xoxs-`, `xoxo-` and `xapp-`
 *   tokens, and incoming-webhook URLs `https://hooks.slack.com/services/…`;
 * - `google`: API keys `AIza…` (39 characters);
 * - `private_key`: PEM private-key blocks (`-----BEGIN … PRIVATE KEY-----` to
 *   the matching END line, or to the end of the base64 body when the END line
 *   is missing); public keys and certificates are kept;
 * - `jwt`: JSON Web Tokens (`eyJ….eyJ….<signature>`);
 * - `env`: the exact value of a provider key variable of the environment
 *   (16 characters or longer), replaced by `[REDACTED:env:<VARIABLE>]`.
 *
 * A token must start at a boundary: not glued to a letter, digit, `_` or `-`
 * before it, except after a JSON escape such as `\n` (tool-call arguments are
 * JSON text). Overlapping detections keep the earliest, then the longest.
 * Base64 data (images), git SHAs, UUIDs and words such as `task-42` match no
 * detector.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import type { ContentPart, Message } from "./Message.ts"
import type { ToolUse } from "./ToolUse.ts"

/**
 * The kinds of secrets recognised (see the module documentation).
 *
 * @since 0.1.0
 * @category constants
 */
export const kinds = ["openai", "anthropic", "aws", "github", "slack", "google", "private_key", "jwt", "env"] as const

/**
 * @since 0.1.0
 * @category models
 */
export type Kind = typeof kinds[number]

/**
 * Values shorter than this many characters (UTF-16 units) are never redacted
 * as environment secrets: a short value (`1`, `true`, a model name) would
 * replace ordinary words.
 *
 * @since 0.1.0
 * @category constants
 */
export const MIN_SECRET_LENGTH = 16

/**
 * A secret known by its exact value: an environment variable's `name` and
 * its `value`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Secret {
  readonly name: string
  readonly value: string
}

/**
 * How many secrets of each kind a redaction replaced (kinds with none are
 * absent).
 *
 * @since 0.1.0
 * @category models
 */
export type Counts = { readonly [K in Kind]?: number }

/**
 * A redacted value, the secrets replaced by kind, and their total.
 *
 * @since 0.1.0
 * @category models
 */
export interface Redacted<A> {
  readonly value: A
  readonly counts: Counts
  readonly total: number
}

/**
 * The replacement of a secret of `kind`: `[REDACTED:openai]`; for an
 * environment value, `[REDACTED:env:OPENAI_API_KEY]`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const marker = (kind: Kind, variable?: string): string =>
  variable === undefined ? `[REDACTED:${kind}]` : `[REDACTED:${kind}:${variable}]`

// ---------------------------------------------------------------------------
// Detectors
// ---------------------------------------------------------------------------

/** Not glued to an identifier character before it, or right after a JSON escape (`\n`, `\t`, ...). */
const START = String.raw`(?:(?<![A-Za-z0-9_\-])|(?<=\\[nrtbf]))`

interface Detector {
  readonly kind: Kind
  readonly pattern: RegExp
  /** The capture group holding the secret (default: the whole match). */
  readonly group?: number
  /** An extra check of the matched secret. */
  readonly accept?: (secret: string) => boolean
}

const hasLetterAndDigit = (text: string): boolean => /[A-Za-z]/.test(text) && /[0-9]/.test(text)
const bodyAfterPrefix = (prefix: RegExp) => (secret: string): boolean => hasLetterAndDigit(secret.replace(prefix, ""))

const detectors: ReadonlyArray<Detector> = [
  {
    kind: "private_key",
    pattern: /-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----[\s\S]*?-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/gd
  },
  {
    // no END line (a cut-off output): the header and the base64 body that follows
    kind: "private_key",
    pattern: new RegExp(
      String.raw`-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----` +
        // lines of base64 (or PEM headers), each ending at a newline, a JSON escape, a quote or the end
        String.raw`(?:(?:\r?\n|\\r\\n|\\n)(?:[A-Za-z0-9+/=]{1,100}|(?:Proc-Type|DEK-Info|Comment): ?[^\r\n\\"]*)(?=\r?\n|\\[rn]|"|$))*`,
      "gd"
    )
  },
  {
    kind: "anthropic",
    pattern: new RegExp(`${START}sk-ant-[a-z]{2,10}[0-9]{0,3}-[A-Za-z0-9_\\-]{20,}`, "gd")
  },
  {
    kind: "openai",
    pattern: new RegExp(`${START}sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\\-]{20,}`, "gd"),
    accept: bodyAfterPrefix(/^sk-[a-z]+-/)
  },
  {
    kind: "openai",
    pattern: new RegExp(`${START}sk-[A-Za-z0-9]{20,}(?![A-Za-z0-9_\\-])`, "gd"),
    accept: bodyAfterPrefix(/^sk-/)
  },
  {
    kind: "aws",
    pattern: new RegExp(`${START}(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])`, "gd")
  },
  {
    kind: "aws",
    pattern:
      /(?:aws_?secret_?access_?key|secret_?access_?key|SecretAccessKey)["']?\s{0,4}[:=]\s{0,4}(?:\\?["'])?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/gid,
    group: 1,
    accept: hasLetterAndDigit
  },
  {
    kind: "github",
    pattern: new RegExp(`${START}gh[pousr]_[A-Za-z0-9]{36,255}(?![A-Za-z0-9_])`, "gd")
  },
  {
    kind: "github",
    pattern: new RegExp(`${START}github_pat_[A-Za-z0-9_]{22,255}(?![A-Za-z0-9_])`, "gd")
  },
  {
    kind: "slack",
    pattern: new RegExp(`${START}(?:xox[abposr]|xapp)-[A-Za-z0-9\\-]{10,}`, "gd"),
    accept: (secret) => /[0-9]/.test(secret)
  },
  {
    kind: "slack",
    pattern: /https:\/\/hooks\.slack\.com\/services\/T[A-Z0-9]{6,}\/B[A-Z0-9]{6,}\/[A-Za-z0-9]{16,}/gd
  },
  {
    kind: "google",
    pattern: new RegExp(`${START}AIza[0-9A-Za-z_\\-]{35}(?![0-9A-Za-z_\\-])`, "gd")
  },
  {
    kind: "jwt",
    pattern: new RegExp(`${START}eyJ[A-Za-z0-9_\\-]{8,}\\.eyJ[A-Za-z0-9_\\-]{8,}\\.[A-Za-z0-9_\\-]*`, "gd")
  }
]

interface Hit {
  readonly start: number
  readonly end: number
  readonly kind: Kind
  readonly variable?: string
}

/** Cheap precheck: text without any of these substrings has no pattern secret. */
const TRIGGERS = /PRIVATE KEY|sk-|AKIA|ASIA|ecret|gh[pousr]_|github_pat_|xox|xapp-|hooks\.slack|AIza|eyJ/i

const patternHits = (text: string, hits: Array<Hit>): void => {
  if (!TRIGGERS.test(text)) return
  for (const detector of detectors) {
    for (const match of text.matchAll(detector.pattern)) {
      const group = detector.group ?? 0
      const secret = match[group]
      const span = match.indices?.[group]
      if (secret === undefined || span === undefined) continue
      if (detector.accept !== undefined && !detector.accept(secret)) continue
      hits.push({ start: span[0], end: span[1], kind: detector.kind })
    }
  }
}

const secretHits = (text: string, secrets: ReadonlyArray<Secret>, hits: Array<Hit>): void => {
  for (const secret of secrets) {
    const forms = new Set([secret.value, JSON.stringify(secret.value).slice(1, -1)])
    for (const form of forms) {
      for (let at = text.indexOf(form); at !== -1; at = text.indexOf(form, at + form.length)) {
        hits.push({ start: at, end: at + form.length, kind: "env", variable: secret.name })
      }
    }
  }
}

const NONE: Counts = {}

/**
 * Replaces every secret in `text` (see the module documentation) by its
 * {@link marker}. `secrets` are exact values to replace too (those shorter
 * than {@link MIN_SECRET_LENGTH} are ignored). Text without secrets is
 * returned as the same string, with `total` 0.
 *
 * @since 0.1.0
 * @category redaction
 */
export const redactText = (text: string, secrets: ReadonlyArray<Secret> = []): Redacted<string> => {
  const hits: Array<Hit> = []
  secretHits(text, secrets.filter((s) => s.value.length >= MIN_SECRET_LENGTH), hits)
  patternHits(text, hits)
  if (hits.length === 0) return { value: text, counts: NONE, total: 0 }
  // earliest first; at the same start the longest; then the order found (env values first)
  const ordered = hits.map((hit, order) => ({ hit, order })).sort((a, b) =>
    a.hit.start - b.hit.start || b.hit.end - a.hit.end || a.order - b.order
  )
  const counts: { [K in Kind]?: number } = {}
  let out = ""
  let at = 0
  let total = 0
  for (const { hit } of ordered) {
    if (hit.start < at) continue // inside a secret already replaced
    out += text.slice(at, hit.start) + marker(hit.kind, hit.variable)
    at = hit.end
    counts[hit.kind] = (counts[hit.kind] ?? 0) + 1
    total++
  }
  return { value: out + text.slice(at), counts, total }
}

/**
 * The sum of several counts.
 *
 * @since 0.1.0
 * @category combinators
 */
export const addCounts = (...all: ReadonlyArray<Counts>): Counts => {
  const sum: { [K in Kind]?: number } = {}
  for (const counts of all) {
    for (const kind of kinds) {
      const n = counts[kind]
      if (n !== undefined && n > 0) sum[kind] = (sum[kind] ?? 0) + n
    }
  }
  return sum
}

const totalOf = (counts: Counts): number => kinds.reduce((n, kind) => n + (counts[kind] ?? 0), 0)

// ---------------------------------------------------------------------------
// A redactor and its use on session values
// ---------------------------------------------------------------------------

/**
 * What redacts: `enabled` (`[redaction] enabled` of the user config) and the
 * exact `secrets` of the environment.
 *
 * @since 0.1.0
 * @category models
 */
export interface Redactor {
  readonly enabled: boolean
  readonly secrets: ReadonlyArray<Secret>
}

/**
 * A redactor (default: enabled, no exact secrets).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: { readonly enabled?: boolean; readonly secrets?: ReadonlyArray<Secret> } = {}): Redactor => ({
  enabled: options.enabled ?? true,
  secrets: (options.secrets ?? []).filter((s) => s.value.length >= MIN_SECRET_LENGTH)
})

/**
 * A redactor that changes nothing (`[redaction] enabled = false`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const disabled: Redactor = { enabled: false, secrets: [] }

const text = (redactor: Redactor, value: string): Redacted<string> =>
  redactor.enabled ? redactText(value, redactor.secrets) : { value, counts: NONE, total: 0 }

/**
 * {@link redactText} with a redactor (nothing changes when it is disabled).
 *
 * @since 0.1.0
 * @category redaction
 */
export const string = text

const part = (redactor: Redactor, p: ContentPart): Redacted<ContentPart> => {
  switch (p.type) {
    case "text":
    case "thinking": {
      const r = text(redactor, p.text)
      return r.total === 0 ? { value: p, counts: NONE, total: 0 } : { ...r, value: { ...p, text: r.value } }
    }
    case "tool_call": {
      const r = text(redactor, p.arguments)
      return r.total === 0 ? { value: p, counts: NONE, total: 0 } : { ...r, value: { ...p, arguments: r.value } }
    }
    case "tool_result": {
      const r = text(redactor, p.content)
      return r.total === 0 ? { value: p, counts: NONE, total: 0 } : { ...r, value: { ...p, content: r.value } }
    }
    case "image":
    case "file":
      return { value: p, counts: NONE, total: 0 }
  }
}

/**
 * The message with the secrets of its text, thinking, tool-call arguments
 * and tool results replaced (images, files, tool ids and names are kept). A
 * message without secrets is returned as the same value.
 *
 * @since 0.1.0
 * @category redaction
 */
export const message = (redactor: Redactor, value: Message): Redacted<Message> => {
  if (!redactor.enabled) return { value, counts: NONE, total: 0 }
  const parts = value.content.map((p) => part(redactor, p))
  const total = parts.reduce((n, p) => n + p.total, 0)
  if (total === 0) return { value, counts: NONE, total: 0 }
  return {
    value: { ...value, content: parts.map((p) => p.value) },
    counts: addCounts(...parts.map((p) => p.counts)),
    total
  }
}

/**
 * The tool use with the secrets of its `input` and `output` replaced; the
 * same value when there are none.
 *
 * @since 0.1.0
 * @category redaction
 */
export const toolUse = (redactor: Redactor, value: ToolUse): Redacted<ToolUse> => {
  const input = text(redactor, value.input)
  const output = text(redactor, value.output)
  const total = input.total + output.total
  if (total === 0) return { value, counts: NONE, total: 0 }
  return { value: { ...value, input: input.value, output: output.value }, counts: addCounts(input.counts, output.counts), total }
}

// ---------------------------------------------------------------------------
// The durable record
// ---------------------------------------------------------------------------

const Count = Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))

/**
 * The payload of the durable `SecretsRedacted` event (record kind
 * `secrets_redacted`): what was redacted (`target`: a `message` of the
 * transcript, a `tool_use`, or the `title`), its position (`index` in
 * `messages` or `tool_uses`; `null` for the title), the secrets replaced by
 * kind (`counts`) and their `total`. Never the secrets themselves. Wire:
 * `{"target":"message","index":3,"counts":{"openai":1},"total":1}`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Report = Schema.Struct({
  target: Schema.Literals(["message", "tool_use", "title"]),
  index: Schema.NullOr(Count),
  counts: Schema.Record(Schema.String, Count),
  total: Count
})

/**
 * @since 0.1.0
 * @category models
 */
export type Report = typeof Report.Type

/**
 * The report of a redaction of `target` at `index`, or `undefined` when
 * nothing was redacted.
 *
 * @since 0.1.0
 * @category constructors
 */
export const report = (target: Report["target"], index: number | null, redacted: Redacted<unknown>): Report | undefined =>
  redacted.total === 0 ? undefined : { target, index, counts: { ...redacted.counts }, total: totalOf(redacted.counts) }
