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
    // focus that left the panel for somewhere else is not the panel's to keep: a control removed
    // later (a colleague's action, live) does not pull it back
    const left = (event: FocusEvent) => {
      const to = event.relatedTarget
      if (to instanceof Node) {
        if (!element.contains(to)) last = null
        return
      }
      // to nowhere: a click on the page, or the control taken away, which the observer sees first
      // (its callback is a microtask, this a task)
      setTimeout(() => {
        if (last?.isConnected && !element.contains(document.activeElement)) last = null
      }, 0)
    }
    element.addEventListener('focusin', focused)
    element.addEventListener('focusout', left)
    const observer = new MutationObserver(() => {
      const lost = document.activeElement === null || document.activeElement === document.body
      if (last !== null && !last.isConnected && lost) element.focus({ preventScroll: true })
      if (last !== null && !last.isConnected) last = null
    })
    observer.observe(element, { childList: true, subtree: true })
    return () => {
      element.removeEventListener('focusin', focused)
      element.removeEventListener('focusout', left)
      observer.disconnect()
    }
  }, [home])
}
