import { describe, expect, it } from 'vitest';
import { capForDevice, deviceClassFromHeaders, fitsCap, type DeviceClass } from '../../core/device-class';

const lookup = (headers: Record<string, string>) => (name: string) => headers[name];
const cloudFront = (flags: Partial<Record<'mobile' | 'tablet' | 'smarttv' | 'desktop', boolean>>) =>
  lookup({
    'cloudfront-is-mobile-viewer': String(flags.mobile ?? false),
    'cloudfront-is-tablet-viewer': String(flags.tablet ?? false),
    'cloudfront-is-smarttv-viewer': String(flags.smarttv ?? false),
    'cloudfront-is-desktop-viewer': String(flags.desktop ?? false),
  });

describe('deviceClassFromHeaders', () => {
  it.each<[string, Parameters<typeof cloudFront>[0], DeviceClass]>([
    ['a phone', { mobile: true }, 'mobile'],
    ['a tablet that CloudFront also marks mobile', { mobile: true, tablet: true }, 'tablet'],
    ['a smart TV', { smarttv: true }, 'smarttv'],
    ['a desktop browser', { desktop: true }, 'desktop'],
    ['a device with every flag false', {}, 'unknown'],
  ])('classifies %s', (_name, flags, expected) => {
    expect(deviceClassFromHeaders(cloudFront(flags))).toBe(expected);
  });

  it('is unknown when CloudFront sent no device headers', () => {
    expect(deviceClassFromHeaders(lookup({}))).toBe('unknown');
  });

  it('reads header values case-insensitively', () => {
    expect(deviceClassFromHeaders(lookup({ 'cloudfront-is-mobile-viewer': 'TRUE' }))).toBe('mobile');
  });
});

describe('device caps', () => {
  it('caps phones at 720p and tablets at 1080p by the short side', () => {
    expect(fitsCap(capForDevice('mobile'), 1280, 720, 3_000_000)).toBe(true);
    expect(fitsCap(capForDevice('mobile'), 1920, 1080, 6_000_000)).toBe(false);
    expect(fitsCap(capForDevice('mobile'), 720, 1280, 3_000_000)).toBe(true);
    expect(fitsCap(capForDevice('tablet'), 1920, 1080, 6_000_000)).toBe(true);
    expect(fitsCap(capForDevice('tablet'), 3840, 2160, 16_000_000)).toBe(false);
  });

  it('never caps desktops, TVs or unknown devices', () => {
    for (const c of ['desktop', 'smarttv', 'unknown'] as const) expect(fitsCap(capForDevice(c), 3840, 2160, 20_000_000)).toBe(true);
  });

  it('lets renditions without a resolution (audio) through the resolution cap', () => {
    expect(fitsCap(capForDevice('mobile'), undefined, undefined, 128_000)).toBe(true);
  });
});
