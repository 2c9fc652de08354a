/**
 * The twin encodes with Debian's ffmpeg (docs/architecture.md#toolchain-and-stand-in-quirks: the npm static build of 2018 crashes on
 * multi-rung HLS), so a missing binary is a setup problem to explain, not a stack trace.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

export const FFMPEG_PATH = process.env.FFMPEG_PATH ?? '/usr/bin/ffmpeg';
export const FFPROBE_PATH = process.env.FFPROBE_PATH ?? '/usr/bin/ffprobe';

export class FfmpegMissingError extends Error {
  constructor(readonly path: string) {
    super(`ffmpeg is required by the local twin and was not found at ${path}.\nInstall it with: sudo apt-get install -y ffmpeg`);
    this.name = 'FfmpegMissingError';
  }
}

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Throws FfmpegMissingError naming the first of ffmpeg/ffprobe that is absent. */
export function assertFfmpegInstalled(ffmpeg = FFMPEG_PATH, ffprobe = FFPROBE_PATH): void {
  for (const path of [ffmpeg, ffprobe]) if (!isExecutable(path)) throw new FfmpegMissingError(path);
}

export interface TestMasterSpec {
  readonly seconds: number;
  readonly width: number;
  readonly height: number;
  readonly fps?: number;
}

/**
 * The file name a generated master is cached under. The spec is part of the name, so changing the
 * spec generates a new master instead of reusing an old file with the same name.
 */
export function testMasterFileName(prefix: string, spec: TestMasterSpec): string {
  return `${prefix}-${spec.seconds}s-${spec.width}x${spec.height}-${spec.fps ?? 25}fps.mp4`;
}

/**
 * Writes an H.264/AAC MP4 master from lavfi test sources (moving test pattern + tone), the kind of
 * mezzanine a content team uploads. `ultrafast` keeps generation cheap on 2 cores; the twin's
 * encode, not this, is what the figures measure.
 */
export function generateTestMaster(outFile: string, spec: TestMasterSpec, ffmpeg = FFMPEG_PATH): Promise<void> {
  const fps = spec.fps ?? 25;
  const args = [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=${spec.width}x${spec.height}:rate=${fps}:duration=${spec.seconds}`,
    '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${spec.seconds}`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', String(fps * 2),
    '-c:a', 'aac', '-b:a', '128k', '-shortest', '-movflags', '+faststart',
    // Explicit, so the file name need not end in .mp4 (the twin writes `<name>.part` and renames it).
    '-f', 'mp4',
    outFile,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpeg, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exited ${code}: ${stderr.trim()}`))));
  });
}
