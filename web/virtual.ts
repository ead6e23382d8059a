/**
 * A Preact binding of `@tanstack/virtual-core`: only the rows on screen (and
 * a few around them) are in the DOM, each measured when it renders, so a
 * transcript of 10,000 messages costs what its visible part costs.
 */
import {
  elementScroll,
  observeElementOffset,
  observeElementRect,
  Virtualizer,
  type VirtualizerOptions
} from "@tanstack/virtual-core"
import { useLayoutEffect, useReducer, useState } from "preact/hooks"

export type ListOptions = Pick<
  VirtualizerOptions<HTMLElement, HTMLElement>,
  "count" | "getScrollElement" | "estimateSize" | "getItemKey" | "overscan" | "anchorTo" | "followOnAppend" | "paddingStart" | "paddingEnd"
>

/** A virtualizer for a scrolling element, re-rendering the component when its window moves. */
export const useVirtualList = (options: ListOptions): Virtualizer<HTMLElement, HTMLElement> => {
  const [, rerender] = useReducer((n: number) => n + 1, 0)
  const resolved: VirtualizerOptions<HTMLElement, HTMLElement> = {
    observeElementRect,
    observeElementOffset,
    scrollToFn: elementScroll,
    ...options,
    onChange: () => rerender(undefined)
  }
  const [instance] = useState(() => new Virtualizer(resolved))
  instance.setOptions(resolved)
  useLayoutEffect(() => instance._didMount(), [])
  useLayoutEffect(() => {
    instance._willUpdate()
  })
  return instance
}
