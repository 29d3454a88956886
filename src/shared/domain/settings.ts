import { z } from 'zod';

/**
 * User settings, persisted by the core (not by the renderer) so the desktop app and the
 * daemon's browser dashboard see the same choices.
 */
export const SettingsSchema = z.object({
  theme: z.enum(['dark', 'light']),
  /** "colorblind" swaps green/yellow/red risk colours for a blue/orange scale (Okabe-Ito). */
  riskPalette: z.enum(['standard', 'colorblind']),
});
export type Settings = z.infer<typeof SettingsSchema>;

export const DEFAULT_SETTINGS: Settings = { theme: 'dark', riskPalette: 'standard' };

/** A partial update: every field optional, unknown fields rejected. */
export const SettingsPatchSchema = SettingsSchema.partial().strict();
export type SettingsPatch = z.infer<typeof SettingsPatchSchema>;
