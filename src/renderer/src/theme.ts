import { SettingsSchema, type Settings } from '@shared/domain';

const CACHE_KEY = 'tftmp.appearance';

/** Themes and palettes are CSS variables switched by attributes on <html> (styles.css). */
export function applyAppearance(settings: Settings): void {
  const root = document.documentElement;
  root.dataset.theme = settings.theme;
  root.dataset.palette = settings.riskPalette;
  try {
    localStorage.setItem(CACHE_KEY, JSON.stringify(settings));
  } catch {
    // Storage may be unavailable (private mode, quota): the core still has the settings.
  }
}

/**
 * Applies the last known appearance before the first paint, so a light-theme user does not see
 * a dark flash while the core answers. The core's answer always wins afterwards.
 */
export function applyCachedAppearance(): void {
  try {
    const raw = localStorage.getItem(CACHE_KEY);
    if (!raw) return;
    const parsed = SettingsSchema.safeParse(JSON.parse(raw));
    if (parsed.success) applyAppearance(parsed.data);
  } catch {
    // A corrupt or unreadable cache only costs the flash it was meant to avoid.
  }
}
