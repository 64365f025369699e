/**
 * Keyboard focus that would be lost stays in its panel. An action that takes away the control it
 * was done with (Acknowledge, once acknowledged, is offered no more) leaves the focus on nothing:
 * the next Tab starts again from the top of the page. Here the panel (`home`, which takes focus:
 * `tabIndex={-1}`) takes it instead, so the next Tab goes on inside it.
 */
import { type RefObject, useEffect } from 'react'

export function useFocusHome(home: RefObject<HTMLElement | null>): void {
  useEffect(() => {
    const element = home.current
    if (!element) return
    let last: Element | null = null
    const focused = (event: FocusEvent) => {
      last = event.target instanceof Element ? event.target : null
    }
    element.addEventListener('focusin', focused)
    const observer = new MutationObserver(() => {
      const lost = document.activeElement === null || document.activeElement === document.body
      if (last !== null && !last.isConnected && lost) element.focus({ preventScroll: true })
      if (last !== null && !last.isConnected) last = null
    })
    observer.observe(element, { childList: true, subtree: true })
    return () => {
      element.removeEventListener('focusin', focused)
      observer.disconnect()
    }
  }, [home])
}
