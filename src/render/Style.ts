/**
 * Terminal styling through Node's `util.styleText`, which drops colours when
 * the stream is not a TTY or `NO_COLOR` is set (and honours `FORCE_COLOR`).
 *
 * @since 0.1.0
 */
import { styleText } from "node:util"

type Format = Parameters<typeof styleText>[0]

const style = (format: Format) => (text: string): string => styleText(format, text, { stream: process.stdout })

/** @since 0.1.0 @category styles */
export const bold = style("bold")
/** @since 0.1.0 @category styles */
export const dim = style("dim")
/** @since 0.1.0 @category styles */
export const cyan = style("cyan")
/** @since 0.1.0 @category styles */
export const green = style("green")
/** @since 0.1.0 @category styles */
export const yellow = style("yellow")
/** @since 0.1.0 @category styles */
export const magenta = style("magenta")
/** @since 0.1.0 @category styles */
export const red = style("red")
