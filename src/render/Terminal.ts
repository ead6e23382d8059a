/**
 * Text from models, tools and files made safe to show on a terminal.
 *
 * A model's answer, a tool's output, a session title or a file name may hold
 * control characters that a terminal obeys: `ESC ]0;…BEL` retitles the
 * window, `ESC ]52;c;…` writes the clipboard (OSC 52), `ESC [2J` clears the
 * screen, a carriage return overwrites what was printed, and C1 controls
 * (U+0080 to U+009F, e.g. U+009B, a one-character CSI) or bidirectional
 * overrides (U+202E) change what the reader sees. {@link sanitize} makes every
 * such character visible instead: `ESC` becomes the four characters `\x1b`,
 * U+009B becomes `\x9b`, U+202E becomes `\u202e`; carriage returns are
 * dropped. Tabs and newlines stay. Since the ESC is shown, not sent, no escape
 * sequence (CSI, OSC, DCS, APC, ...) can start, whatever follows it.
 *
 * Packages such as `strip-ansi` (and Node's `util.stripVTControlCharacters`)
 * remove the sequences they recognise and pass the rest through: a lone ESC,
 * BEL, backspace, a C1 CSI, an unterminated OSC or a bidi override survive.
 * Escaping every control character is both simpler and complete, so this is
 * a few lines of our own.
 *
 * It is applied only to what goes to a terminal (`isTTY`): `--json` output,
 * piped output and the session files keep the text exactly as it came.
 *
 * @since 0.1.0
 */

// C0 controls except tab and newline, DEL, C1 controls, and the bidi
// embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069).
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g

const visible = (c: string): string => {
  if (c === "\r") return ""
  const code = c.charCodeAt(0)
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`
}

/**
 * `text` with every terminal control character made visible (see the module
 * docs): C0 controls other than tab and newline, DEL, C1 controls and bidi
 * overrides become `\xHH` / `\uHHHH`; carriage returns are removed.
 *
 * @since 0.1.0
 * @category sanitizing
 */
export const sanitize = (text: string): string => text.replace(UNSAFE, visible)

/**
 * {@link sanitize}d `text` when `stream` is a terminal, else `text` as it is.
 *
 * @since 0.1.0
 * @category sanitizing
 */
export const forStream = (stream: { readonly isTTY?: boolean | undefined }, text: string): string =>
  stream.isTTY === true ? sanitize(text) : text
