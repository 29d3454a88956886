import type { RouteId } from '../routing/routes';

export type IconName = RouteId | 'logo' | 'info' | 'alert-triangle' | 'refresh';

/**
 * Stroke icons drawn on a 16x16 grid, inline so the app needs no asset requests (and works
 * offline under the CSP). Decorative: the text beside each icon carries the meaning.
 */
const PATHS: Record<IconName, string> = {
  overview: 'M2.5 2.5h4.5v4.5h-4.5zM9 2.5h4.5v4.5H9zM2.5 9h4.5v4.5h-4.5zM9 9h4.5v4.5H9z',
  heatmap:
    'M2.5 2.5h3v3h-3zM6.5 2.5h3v3h-3zM10.5 2.5h3v3h-3zM2.5 6.5h3v3h-3zM6.5 6.5h3v3h-3zM10.5 6.5h3v3h-3zM2.5 10.5h3v3h-3zM6.5 10.5h3v3h-3zM10.5 10.5h3v3h-3z',
  servers: 'M2.5 2.5h11v4h-11zM2.5 9.5h11v4h-11zM5 4.5h.01M5 11.5h.01M8 4.5h3M8 11.5h3',
  trends: 'M1.5 12.5l4-4.5 3 2.5 5.5-6.5M10.5 4h3.5v3.5',
  alerts: 'M4 11.5V7a4 4 0 0 1 8 0v4.5l1.5 1.5h-11zM6.5 13.5a1.5 1.5 0 0 0 3 0',
  demo: 'M8 1.75a6.25 6.25 0 1 0 0 12.5a6.25 6.25 0 1 0 0-12.5zM6.5 5.25v5.5l4.25-2.75z',
  training: 'M4.5 4.5h7v7h-7zM6.5 1.5v3M9.5 1.5v3M6.5 11.5v3M9.5 11.5v3M1.5 6.5h3M1.5 9.5h3M11.5 6.5h3M11.5 9.5h3',
  models: 'M8 1.5l5.5 3v7L8 14.5l-5.5-3v-7zM2.5 4.5L8 7.5l5.5-3M8 7.5v7',
  settings: 'M2 4h7M12 4h2M2 8h2M7 8h7M2 12h5M10 12h4M10.5 2.5v3M5.5 6.5v3M8.5 10.5v3',
  logo: 'M1.5 11.5l3-3 2.5 2 3.5-5 2 2.5 2-2.5M1.5 14h13',
  info: 'M8 1.75a6.25 6.25 0 1 0 0 12.5a6.25 6.25 0 1 0 0-12.5zM8 7.25v4M8 4.75h.01',
  'alert-triangle': 'M8 1.75L14.75 13.5H1.25zM8 6v3.5M8 11.5h.01',
  refresh: 'M13.5 8a5.5 5.5 0 1 1-1.6-3.9M13.5 2v3.5H10',
};

export function Icon({ name, size = 16, className }: { name: IconName; size?: number; className?: string }) {
  return (
    <svg
      className={className ? `icon ${className}` : 'icon'}
      width={size}
      height={size}
      viewBox="0 0 16 16"
      fill="none"
      stroke="currentColor"
      strokeWidth={1.4}
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      <path d={PATHS[name]} />
    </svg>
  );
}
