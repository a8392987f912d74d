/**
 * Test photos made with sharp: a JPEG that carries EXIF metadata as a phone's camera writes
 * it (a description with `marker`, GPS coordinates, an orientation of 6: turned a quarter),
 * so tests can check that it is removed before a file is encrypted; and whether ffmpeg is
 * there to make videos with.
 */
import { execFileSync } from 'node:child_process';
import sharp from 'sharp';

export async function photoWithExif(o: { width: number; height: number; marker: string }): Promise<Buffer> {
  return sharp({
    create: { width: o.width, height: o.height, channels: 3, background: { r: 40, g: 120, b: 200 } },
  })
    .jpeg()
    .withExif({
      IFD0: { ImageDescription: o.marker },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 2400/100' },
    })
    .withMetadata({ orientation: 6 })
    .toBuffer();
}

/** Whether ffmpeg is on PATH (the video preview tests need it; CI installs it). */
export function hasFfmpeg(): boolean {
  try {
    execFileSync('ffmpeg', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
