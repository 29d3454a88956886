import { readFileSync } from 'node:fs';
import { PrometheusSourceInputSchema, type PrometheusSourceInput } from '@shared/domain';

/**
 * `serve --prometheus URL [--prometheus-token-file F]` as a source input; throws an Error naming
 * the flag (the CLI turns it into a usage error). The token comes from a file so it stays out of
 * the process list and shell history.
 */
export function prometheusFromFlags(url: string | undefined, tokenFile: string | undefined): PrometheusSourceInput | null {
  if (url === undefined) {
    if (tokenFile !== undefined) throw new Error('--prometheus-token-file needs --prometheus URL');
    return null;
  }
  let token: string | null = null;
  if (tokenFile !== undefined) {
    try {
      token = readFileSync(tokenFile, 'utf8').trim();
    } catch (error) {
      throw new Error(`--prometheus-token-file: cannot read ${tokenFile}: ${(error as Error).message}`);
    }
    if (token === '') throw new Error(`--prometheus-token-file: ${tokenFile} is empty`);
  }
  const parsed = PrometheusSourceInputSchema.safeParse({ url });
  if (!parsed.success) throw new Error(`--prometheus must be an http:// or https:// URL, got "${url}"`);
  return { url: parsed.data.url, ...(token !== null ? { token } : {}) };
}
