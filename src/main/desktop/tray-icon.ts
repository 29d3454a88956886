import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';

export type TrayLevel = 'ok' | 'warning' | 'critical';

/** The dashboard's health colours (green, amber, red). */
const COLOURS: Record<TrayLevel, readonly [number, number, number]> = {
  ok: [0x3f, 0xb9, 0x50],
  warning: [0xd2, 0x99, 0x22],
  critical: [0xf8, 0x51, 0x49],
};

/**
 * A filled disc as an RGBA PNG, made here so the tray needs no image asset in the package (the
 * build has only an SVG, which Electron's Tray cannot load).
 */
export function discPng(level: TrayLevel, size = 32): Buffer {
  const [r, g, b] = COLOURS[level];
  const raw = Buffer.alloc((size * 4 + 1) * size);
  const centre = (size - 1) / 2;
  const radius = size / 2 - 1;
  for (let y = 0; y < size; y += 1) {
    const row = y * (size * 4 + 1);
    raw[row] = 0; // filter: none
    for (let x = 0; x < size; x += 1) {
      const d = Math.hypot(x - centre, y - centre);
      const alpha = Math.max(0, Math.min(1, radius + 0.5 - d));
      const at = row + 1 + x * 4;
      raw[at] = r;
      raw[at + 1] = g;
      raw[at + 2] = b;
      raw[at + 3] = Math.round(alpha * 255);
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** Writes the three icons under `dir` (atomically: a half-written PNG is never loaded); returns their paths. */
export function writeTrayIcons(dir: string): Record<TrayLevel, string> {
  mkdirSync(dir, { recursive: true });
  const paths = {} as Record<TrayLevel, string>;
  for (const level of Object.keys(COLOURS) as TrayLevel[]) {
    const path = join(dir, `tray-${level}.png`);
    writeFileSync(`${path}.tmp`, discPng(level));
    renameSync(`${path}.tmp`, path);
    paths[level] = path;
  }
  return paths;
}
