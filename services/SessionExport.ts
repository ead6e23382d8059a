/**
 * Exporting a session to read or share it (a codetether addition):
 *
 * - `json`: the session's on-disk encoding (4.5.7's compact JSON, no
 *   trailing newline);
 * - `md`: Markdown: a header (title, id, directory, model, times, tokens and
 *   cost), then each message under its role as a heading; tool calls as
 *   fenced `json` blocks of their (pretty-printed) arguments; tool results
 *   cut to their first {@link RESULT_LINES} lines with their size in bytes
 *   and lines; thinking as a quote; images written as files in
 *   `<name>.images/` next to the Markdown file and linked from it (with no
 *   output file, only described);
 * - `html`: one self-contained file that fetches nothing (a
 *   Content-Security-Policy forbids it; inline CSS, no script): the text of
 *   messages rendered from Markdown with `markdown-it` (raw HTML escaped,
 *   Markdown images not rendered, since an `<img>` of a remote URL would be a
 *   fetch), tool calls and results as collapsible `<details>` (results in
 *   full), images inline as `data:` URIs (only PNG, JPEG, GIF and WebP
 *   `data:` URLs; others are shown as text), and the token usage and cost of
 *   every step, from the durable log (`SessionCost`), under the assistant
 *   message it produced and in a table at the top.
 *
 * Works on any store and durable sink.
 *
 * @since 0.1.0
 */
import * as NodePath from "node:path"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as ImageAttachment from "../schemas/ImageAttachment.ts"
import type { ContentPart, Message } from "../schemas/Message.ts"
import * as Pricing from "../schemas/Pricing.ts"
import type { Session } from "../schemas/Session.ts"
import * as SessionJson from "../schemas/SessionJson.ts"
import * as DurableSink from "./DurableSink.ts"
import { writeFileAtomic } from "./internal/AtomicWrite.ts"
import * as SafeFs from "./internal/SafeFs.ts"
import * as SessionCost from "./SessionCost.ts"
import * as SessionStore from "./SessionStore.ts"

/**
 * An export format: `md`, `json` or `html`.
 *
 * @since 0.1.0
 * @category models
 */
export const Format = Schema.Literals(["md", "json", "html"])

/**
 * @since 0.1.0
 * @category models
 */
export type Format = typeof Format.Type

/**
 * Lines of a tool result shown in Markdown.
 *
 * @since 0.1.0
 * @category constants
 */
export const RESULT_LINES = 10

/**
 * An image an export writes next to its Markdown: `path` relative to the
 * Markdown file's directory.
 *
 * @since 0.1.0
 * @category models
 */
export interface ImageFile {
  readonly path: string
  readonly bytes: Uint8Array
}

/**
 * A rendered export: the document's bytes and the image files that go
 * with it (Markdown only).
 *
 * @since 0.1.0
 * @category models
 */
export interface Rendered {
  readonly content: Uint8Array
  readonly images: ReadonlyArray<ImageFile>
}

/**
 * Writing an export failed (`Io`); nothing is left half-written (each file
 * is written atomically).
 *
 * @since 0.1.0
 * @category errors
 */
export class SessionExportError extends Schema.TaggedError<SessionExportError>()("SessionExportError", {
  reason: Schema.Literals(["Io"]),
  message: Schema.String,
  path: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Defect())
}) {}

const encoder = new TextEncoder()
const count = (n: number): string => n.toLocaleString("en-US")
const byteLength = (text: string): number => Buffer.byteLength(text)
const lineCount = (text: string): number => (text.length === 0 ? 0 : text.split("\n").length)

const EXTENSIONS: Readonly<Record<string, string>> = {
  "image/png": "png",
  "image/jpeg": "jpg",
  "image/gif": "gif",
  "image/webp": "webp"
}

const roleHeading = (role: Message["role"]): string => {
  switch (role) {
    case "user":
      return "User"
    case "assistant":
      return "Assistant"
    case "tool":
      return "Tool"
    case "system":
      return "System"
  }
}

/** A code fence longer than any backtick run in `text`. */
const fence = (text: string): string => {
  let longest = 0
  for (const run of text.match(/`+/g) ?? []) longest = Math.max(longest, run.length)
  return "`".repeat(Math.max(3, longest + 1))
}

const fenced = (text: string, info = ""): string => {
  const f = fence(text)
  return `${f}${info}\n${text}${text.endsWith("\n") ? "" : "\n"}${f}`
}

const prettyArguments = (raw: string): { readonly text: string; readonly json: boolean } => {
  if (raw.trim().length === 0) return { text: "{}", json: true }
  try {
    return { text: JSON.stringify(JSON.parse(raw), null, 2), json: true }
  } catch {
    return { text: raw, json: false }
  }
}

const headerFacts = (session: Session, report: SessionCost.Report) => {
  const u = session.usage
  const cache = [
    u.cacheReadTokens === null ? [] : [`${count(u.cacheReadTokens)} cache read`],
    u.cacheWriteTokens === null ? [] : [`${count(u.cacheWriteTokens)} cache write`]
  ].flat()
  return {
    tokens: `${count(u.promptTokens)} prompt${cache.length === 0 ? "" : ` (${cache.join(", ")})`} / ${
      count(u.completionTokens)
    } completion`,
    cost: Pricing.format(report.costUsd)
  }
}

/**
 * The Markdown export of `session` (see the module docs). `imagesDir`: the
 * directory (relative to the Markdown file) images are written to and linked
 * from; `undefined`: images are only described.
 *
 * @since 0.1.0
 * @category rendering
 */
export const toMarkdown = (
  session: Session,
  report: SessionCost.Report,
  options: { readonly imagesDir?: string | undefined } = {}
): Rendered => {
  const out: Array<string> = []
  const images: Array<ImageFile> = []
  const facts = headerFacts(session, report)
  out.push(`# ${(session.title ?? "Untitled session").replace(/\s+/g, " ")}`, "")
  out.push(`- Session: \`${session.id}\``)
  if (session.metadata.directory !== null) out.push(`- Directory: \`${session.metadata.directory}\``)
  if (report.model !== null) out.push(`- Model: \`${report.model}\``)
  out.push(`- Created: ${session.createdAt}`, `- Updated: ${session.updatedAt}`)
  out.push(`- Tokens: ${facts.tokens}`, `- Cost: ${facts.cost}`, "")
  const part = (p: ContentPart, messageIndex: number, partIndex: number): string => {
    switch (p.type) {
      case "text":
        return p.text
      case "thinking":
        return p.text.split("\n").map((line, i) => (i === 0 ? `> *Thinking:* ${line}` : `> ${line}`)).join("\n")
      case "tool_call": {
        const args = prettyArguments(p.arguments)
        return `**Tool call** \`${p.name}\` (\`${p.id}\`)\n\n${fenced(args.text, args.json ? "json" : "")}`
      }
      case "tool_result": {
        const lines = p.content.split("\n")
        const shown = lines.slice(0, RESULT_LINES).join("\n")
        const more = lines.length > RESULT_LINES ? `, first ${RESULT_LINES} of ${count(lines.length)} lines` : ""
        return `**Result** of \`${p.toolCallId}\` (${count(byteLength(p.content))} bytes${more})\n\n${fenced(shown)}`
      }
      case "file":
        return `File: \`${p.path}\`${p.mimeType === null ? "" : ` (${p.mimeType})`}`
      case "image": {
        const data = ImageAttachment.parseDataUrl(p.url)
        if (data === undefined) return `[image](<${p.url}>)`
        const mime = data.mimeType ?? p.mimeType ?? "application/octet-stream"
        const bytes = Buffer.from(data.base64, "base64")
        if (options.imagesDir === undefined) {
          return `*[image: ${mime}, ${count(bytes.length)} bytes; export with -o FILE to write it]*`
        }
        const path = `${options.imagesDir}/message-${messageIndex}-${partIndex}.${EXTENSIONS[mime] ?? "bin"}`
        images.push({ path, bytes })
        return `![image ${messageIndex}.${partIndex}](<${path}>)`
      }
    }
  }
  session.messages.forEach((message, i) => {
    out.push("---", "", `## ${roleHeading(message.role)} <sub>#${i}</sub>`, "")
    message.content.forEach((p, j) => out.push(part(p, i, j), ""))
  })
  return { content: encoder.encode(`${out.join("\n").trimEnd()}\n`), images }
}

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => (c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : c === "\"" ? "&quot;" : "&#39;"))

const SAFE_IMAGE = /^data:image\/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/]*={0,2}$/

const CSS = `
:root{color-scheme:light dark;--fg:#1d1f23;--bg:#fff;--muted:#6a7079;--line:#d9dce1;--code:#f4f5f7;--user:#2f6fde;--assistant:#18864b;--tool:#a15c00}
@media (prefers-color-scheme:dark){:root{--fg:#e4e6ea;--bg:#16181c;--muted:#9aa1ab;--line:#30343b;--code:#202329}}
body{font:15px/1.55 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg);max-width:920px;margin:2rem auto;padding:0 1rem}
h1{font-size:1.5rem;margin:0 0 .5rem}dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;color:var(--muted);margin:0 0 1rem}
dl.meta dt{font-weight:600}dl.meta dd{margin:0}
table.steps{border-collapse:collapse;font-size:.85rem;margin:.5rem 0 1.5rem;width:100%}table.steps th,table.steps td{border-bottom:1px solid var(--line);padding:.2rem .5rem;text-align:right}
table.steps th:nth-child(-n+3),table.steps td:nth-child(-n+3){text-align:left}
section.msg{border-top:1px solid var(--line);padding:.75rem 0}section.msg h2{font-size:.95rem;margin:0 0 .4rem;text-transform:uppercase;letter-spacing:.04em}
section.user h2{color:var(--user)}section.assistant h2{color:var(--assistant)}section.tool h2,section.system h2{color:var(--tool)}
h2 a{color:var(--muted);text-decoration:none;font-weight:400}
pre,code{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--code);border-radius:4px}
pre{padding:.6rem .8rem;overflow:auto;white-space:pre-wrap;word-break:break-word}code{padding:.05rem .25rem}pre code{padding:0;background:none}
details{margin:.4rem 0;border:1px solid var(--line);border-radius:6px;padding:.2rem .6rem}details>summary{cursor:pointer;color:var(--muted)}
details.thinking{font-style:italic}.usage{font-size:.8rem;color:var(--muted);margin-top:.4rem}img{max-width:100%;border-radius:4px}
`.trim()

/**
 * The HTML export of `session` (see the module docs): one file, no
 * network fetches.
 *
 * @since 0.1.0
 * @category rendering
 */
export const toHtml = Effect.fn("SessionExport.toHtml")(function*(session: Session, report: SessionCost.Report) {
  const { default: MarkdownIt } = yield* Effect.promise(() => import("markdown-it"))
  const md = new MarkdownIt({ html: false, linkify: false, typographer: false }).disable(["image"])
  const markdown = (text: string) => md.render(text)
  const facts = headerFacts(session, report)
  const stepsByMessage = new Map<number, Array<SessionCost.Step>>()
  report.steps.forEach((step) => {
    if (step.messageIndex === null) return
    const list = stepsByMessage.get(step.messageIndex) ?? []
    list.push(step)
    stepsByMessage.set(step.messageIndex, list)
  })
  const stepLine = (step: SessionCost.Step, n: number) => {
    const cached = step.cacheReadTokens === null ? "" : ` (${count(step.cacheReadTokens)} cache read)`
    return `step ${n} · ${escapeHtml(step.model)} · ${count(step.promptTokens)} prompt${cached} · ${
      count(step.completionTokens)
    } completion · ${Pricing.format(step.costUsd)}`
  }
  const stepNumber = new Map(report.steps.map((s, i) => [s, i + 1]))
  const part = (p: ContentPart): string => {
    switch (p.type) {
      case "text":
        return `<div class="md">${markdown(p.text)}</div>`
      case "thinking":
        return `<details class="thinking"><summary>thinking</summary><div class="md">${markdown(p.text)}</div></details>`
      case "tool_call": {
        const args = prettyArguments(p.arguments)
        return `<details class="call"><summary>tool call <code>${escapeHtml(p.name)}</code> <code>${
          escapeHtml(p.id)
        }</code></summary><pre><code>${escapeHtml(args.text)}</code></pre></details>`
      }
      case "tool_result":
        return `<details class="result"><summary>result of <code>${escapeHtml(p.toolCallId)}</code> · ${
          count(byteLength(p.content))
        } bytes · ${count(lineCount(p.content))} lines</summary><pre><code>${escapeHtml(p.content)}</code></pre></details>`
      case "file":
        return `<p>file <code>${escapeHtml(p.path)}</code>${p.mimeType === null ? "" : ` (${escapeHtml(p.mimeType)})`}</p>`
      case "image":
        return SAFE_IMAGE.test(p.url)
          ? `<p><img alt="image" src="${p.url}"></p>`
          : `<p>image (not embedded): <code>${escapeHtml(p.url.slice(0, 200))}</code></p>`
    }
  }
  const body: Array<string> = []
  body.push(`<h1>${escapeHtml(session.title ?? "Untitled session")}</h1>`)
  const meta: Array<readonly [string, string]> = [
    ["Session", `<code>${escapeHtml(session.id)}</code>`],
    ...(session.metadata.directory === null ? [] : [["Directory", `<code>${escapeHtml(session.metadata.directory)}</code>`] as const]),
    ...(report.model === null ? [] : [["Model", `<code>${escapeHtml(report.model)}</code>`] as const]),
    ["Created", escapeHtml(session.createdAt)],
    ["Updated", escapeHtml(session.updatedAt)],
    ["Tokens", escapeHtml(facts.tokens)],
    ["Cost", escapeHtml(facts.cost)]
  ]
  body.push(`<dl class="meta">${meta.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join("")}</dl>`)
  if (report.steps.length > 0) {
    body.push(
      `<table class="steps"><thead><tr><th>step</th><th>message</th><th>model</th><th>prompt</th><th>cache read</th><th>cache write</th><th>completion</th><th>cost</th></tr></thead><tbody>`
    )
    report.steps.forEach((s, i) => {
      const link = s.messageIndex === null ? "-" : `<a href="#m${s.messageIndex}">#${s.messageIndex}</a>`
      body.push(
        `<tr><td>${i + 1}</td><td>${link}</td><td>${escapeHtml(s.model)}</td><td>${count(s.promptTokens)}</td><td>${
          s.cacheReadTokens === null ? "-" : count(s.cacheReadTokens)
        }</td><td>${s.cacheWriteTokens === null ? "-" : count(s.cacheWriteTokens)}</td><td>${count(s.completionTokens)}</td><td>${
          Pricing.format(s.costUsd)
        }</td></tr>`
      )
    })
    body.push(`</tbody></table>`)
  }
  session.messages.forEach((message, i) => {
    const steps = stepsByMessage.get(i) ?? []
    body.push(
      `<section class="msg ${message.role}" id="m${i}"><h2>${roleHeading(message.role)} <a href="#m${i}">#${i}</a></h2>${
        message.content.map(part).join("")
      }${steps.map((s) => `<div class="usage">${stepLine(s, stepNumber.get(s)!)}</div>`).join("")}</section>`
    )
  })
  const title = escapeHtml(session.title ?? session.id)
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="codetether">
<title>${title}</title>
<style>${CSS}</style>
</head>
<body>
${body.join("\n")}
</body>
</html>
`
})

/**
 * Options of {@link render} and {@link exportSession}: the format, the
 * price table and default model for costs (`SessionCost.Options`), and for
 * Markdown the images directory (relative to the Markdown file).
 *
 * @since 0.1.0
 * @category models
 */
export interface RenderOptions extends SessionCost.Options {
  readonly format: Format
  readonly imagesDir?: string | undefined
}

/**
 * Renders stored session `id` in `options.format` (loads it whole, reads its
 * durable log for the usage steps). Fails with `SessionStoreError`.
 *
 * @since 0.1.0
 * @category rendering
 */
export const render = Effect.fn("SessionExport.render")(function*(id: string, options: RenderOptions) {
  const store = yield* SessionStore.SessionStore
  const session = yield* store.load(id)
  if (options.format === "json") return { content: SessionJson.encode(session), images: [] } satisfies Rendered
  const sink = yield* DurableSink.DurableSink
  const records = yield* sink.read(id).pipe(
    Effect.catch((e) => Effect.as(Effect.logWarning(`cannot read the durable log of ${id}: ${e.message}`), []))
  )
  const report = SessionCost.report(session, records, options.prices ?? Pricing.builtIn, options.defaultModel ?? null)
  if (options.format === "md") return toMarkdown(session, report, { imagesDir: options.imagesDir })
  return { content: encoder.encode(yield* toHtml(session, report)), images: [] } satisfies Rendered
})

/**
 * The images directory of a Markdown export written to `output`:
 * `<name without extension>.images`.
 *
 * @since 0.1.0
 * @category rendering
 */
export const imagesDirFor = (output: string): string => `${NodePath.basename(output).replace(/\.[^.]*$/, "")}.images`

/**
 * Exports stored session `id` to the file `output` (replaced atomically,
 * mode 0600), and for Markdown its images into `<name>.images/` beside it.
 * Returns the paths written, the document first. Fails with
 * `SessionStoreError` or {@link SessionExportError}.
 *
 * @since 0.1.0
 * @category exporting
 */
export const exportSession = Effect.fn("SessionExport.exportSession")(function*(
  id: string,
  output: string,
  options: Omit<RenderOptions, "imagesDir">
) {
  const imagesDir = imagesDirFor(output)
  const rendered = yield* render(id, { ...options, imagesDir })
  const dir = NodePath.dirname(output)
  const write = (path: string, bytes: Uint8Array) =>
    writeFileAtomic(path, bytes).pipe(
      Effect.mapError((e) => new SessionExportError({ reason: "Io", message: `Cannot write ${path}: ${e.message}`, path, cause: e }))
    )
  const written: Array<string> = []
  if (rendered.images.length > 0) {
    const target = NodePath.join(dir, imagesDir)
    yield* Effect.tryPromise({
      try: () => SafeFs.ensureDir(target),
      catch: (e) =>
        new SessionExportError({
          reason: "Io",
          message: `Cannot create ${target}: ${e instanceof SafeFs.SafeFsError ? e.detail : String(e)}`,
          path: target,
          cause: e
        })
    })
    for (const image of rendered.images) {
      const path = NodePath.join(dir, image.path)
      yield* write(path, image.bytes)
      written.push(path)
    }
  }
  yield* write(output, rendered.content)
  return [output, ...written]
})
