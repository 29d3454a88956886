import { useLayoutEffect, useState, type RefObject } from 'react';

export interface RowWindow {
  /** First row to render (inclusive). */
  start: number;
  /** Row after the last one to render (exclusive). */
  end: number;
  /** The measured row height (px) the spacers are sized with. */
  rowHeight: number;
}

export interface RowWindowOptions {
  /** Below this many rows everything renders: no spacers, and the browser's find-in-page sees every row. */
  threshold: number;
  /** Rows rendered above and below the visible ones, so a fast scroll does not show blanks. */
  overscan: number;
  /** Row height until a row has been measured (px). */
  estimatedRowHeight: number;
}

/** Which rows of a fixed-row-height list overlap the scroller's viewport, plus overscan. */
export function visibleRange(
  scrollTop: number,
  viewportHeight: number,
  count: number,
  rowHeight: number,
  overscan: number,
): { start: number; end: number } {
  if (count <= 0 || rowHeight <= 0) return { start: 0, end: 0 };
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const last = Math.ceil((Math.max(0, scrollTop) + Math.max(0, viewportHeight)) / rowHeight);
  const start = Math.min(count, Math.max(0, first - overscan));
  const end = Math.min(count, Math.max(start, last + overscan));
  return { start, end };
}

/**
 * Renders only the rows a scroller shows: a 1,000-server table redrawn every second would spend
 * its time on rows nobody sees. Rows must share one height; it is measured from the first
 * rendered row (`tbody tr[data-row]`), so zoom and font changes keep the spacers right.
 */
export function useRowWindow(
  scrollerRef: RefObject<HTMLElement | null>,
  count: number,
  options: RowWindowOptions,
): RowWindow | null {
  const { threshold, overscan, estimatedRowHeight } = options;
  const windowed = count > threshold;
  const [range, setRange] = useState<RowWindow>({
    start: 0,
    end: Math.min(count, 2 * overscan + 40),
    rowHeight: estimatedRowHeight,
  });

  useLayoutEffect(() => {
    const scroller = scrollerRef.current;
    if (!windowed || !scroller) return;
    const measure = (): void => {
      const row = scroller.querySelector<HTMLElement>('tbody tr[data-row]');
      const rowHeight = row && row.offsetHeight > 0 ? row.offsetHeight : estimatedRowHeight;
      // The sticky header covers the top of the viewport; rows start right below it.
      const header = scroller.querySelector<HTMLElement>('thead')?.offsetHeight ?? 0;
      const next = visibleRange(scroller.scrollTop, scroller.clientHeight - header, count, rowHeight, overscan);
      setRange((prev) =>
        prev.start === next.start && prev.end === next.end && prev.rowHeight === rowHeight
          ? prev
          : { ...next, rowHeight },
      );
    };
    measure();
    // Scroll events come at most once a frame; the range rarely changes, and then cheaply.
    scroller.addEventListener('scroll', measure, { passive: true });
    const resize = new ResizeObserver(measure);
    resize.observe(scroller);
    return () => {
      scroller.removeEventListener('scroll', measure);
      resize.disconnect();
    };
  }, [scrollerRef, windowed, count, overscan, estimatedRowHeight]);

  if (!windowed) return null;
  // Until the effect measured, clamp to the current count (the list may have shrunk).
  return { ...range, start: Math.min(range.start, count), end: Math.min(range.end, count) };
}
