/**
 * Markdown as HTML: markdown-it with raw HTML escaped (never passed
 * through), code blocks highlighted by highlight.js (a few languages,
 * bundled), links opening in a new tab without a referrer, and images that
 * would load from another origin shown as links (the page makes no request
 * outside its origin; `data:` images are shown).
 */
import hljs from "highlight.js/lib/core"
import bash from "highlight.js/lib/languages/bash"
import css from "highlight.js/lib/languages/css"
import diff from "highlight.js/lib/languages/diff"
import go from "highlight.js/lib/languages/go"
import javascript from "highlight.js/lib/languages/javascript"
import json from "highlight.js/lib/languages/json"
import markdownLanguage from "highlight.js/lib/languages/markdown"
import python from "highlight.js/lib/languages/python"
import rust from "highlight.js/lib/languages/rust"
import shell from "highlight.js/lib/languages/shell"
import sql from "highlight.js/lib/languages/sql"
import typescript from "highlight.js/lib/languages/typescript"
import xml from "highlight.js/lib/languages/xml"
import yaml from "highlight.js/lib/languages/yaml"
import MarkdownIt, { type MarkdownIt as Markdown } from "markdown-it"

const languages = { bash, css, diff, go, javascript, json, markdown: markdownLanguage, python, rust, shell, sql, typescript, xml, yaml }
for (const [name, language] of Object.entries(languages)) hljs.registerLanguage(name, language)
hljs.registerAliases(["sh", "zsh", "console"], { languageName: "bash" })
hljs.registerAliases(["ts", "tsx"], { languageName: "typescript" })
hljs.registerAliases(["js", "jsx", "mjs", "cjs"], { languageName: "javascript" })
hljs.registerAliases(["py"], { languageName: "python" })
hljs.registerAliases(["rs"], { languageName: "rust" })
hljs.registerAliases(["html", "svg"], { languageName: "xml" })
hljs.registerAliases(["yml"], { languageName: "yaml" })
hljs.registerAliases(["md"], { languageName: "markdown" })

/** Highlighted HTML of `code` in `language` (escaped plain text when the language is not bundled). */
export const highlight = (code: string, language: string | undefined): string => {
  if (language !== undefined && language !== "" && hljs.getLanguage(language) !== undefined) {
    return hljs.highlight(code, { language, ignoreIllegals: true }).value
  }
  return escapeHtml(code)
}

export const escapeHtml = (text: string): string =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;")

/** Links open in a new tab without a referrer; an image from elsewhere is a link (no request leaves the origin). */
const addRules = (md: Markdown): void => {
  const defaultLinkOpen = md.renderer.rules.link_open ??
    ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options))
  md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
    const token = tokens[idx]!
    token.attrSet("target", "_blank")
    token.attrSet("rel", "noopener noreferrer")
    return defaultLinkOpen(tokens, idx, options, env, self)
  }
  md.renderer.rules.image = (tokens, idx) => {
    const token = tokens[idx]!
    const src = String(token.attrGet("src") ?? "")
    const alt = token.content
    if (src.startsWith("data:image/")) return `<img src="${escapeHtml(src)}" alt="${escapeHtml(alt)}">`
    return `<a href="${escapeHtml(src)}" target="_blank" rel="noopener noreferrer">[image: ${escapeHtml(alt || src)}]</a>`
  }
}

const make = (breaks: boolean): Markdown => {
  const md = new MarkdownIt({
    html: false,
    linkify: true,
    breaks,
    highlight: (code, language) => `<pre class="code hljs"><code>${highlight(code, language.trim().split(/\s+/)[0])}</code></pre>`
  })
  addRules(md)
  return md
}

const prose = make(false)
const typed = make(true)

/**
 * The HTML of a Markdown text (raw HTML in it is shown as text); with
 * `breaks`, a line break is a line break (what a person typed).
 */
export const render = (text: string, breaks = false): string => (breaks ? typed : prose).render(text)
