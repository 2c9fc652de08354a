import { describe, expect, it } from 'vitest';
import {
  assetIdFromKey,
  InvalidAssetNameError,
  InvalidUploadEventError,
  jobRequestToken,
  revisionFromUpload,
  slugify,
} from '../../core/asset-id';
import { isAssetId, isRevision, MAX_ASSET_ID_LENGTH } from '../../core/identifiers';
import { parsePlaybackPath } from '../../core/playback-paths';
import {
  classifyUploadKey,
  decodeNotificationKey,
  encodeNotificationKey,
  notificationKeyCandidates,
  unusableKeyReason,
} from '../../core/upload-key';
import { seededRandom } from '../support/seeded-random';

describe('assetIdFromKey', () => {
  it.each([
    ['uploads/Big Buck.mov', 'big-buck'],
    ['uploads/trailers/Foo.mp4', 'trailers-foo'],
    ['uploads/Big.Buck.Bunny.MOV', 'big-buck-bunny'],
    ['uploads/  Spaces   and___underscores  .mxf', 'spaces-and-underscores'],
    ['uploads/Crème Brûlée (Director’s Cut).mov', 'creme-brulee-directors-cut'],
    ['uploads/Straße nach Łódź.mp4', 'strasse-nach-lodz'],
    ['uploads/Don\'t Look Up.mov', 'dont-look-up'],
    ['uploads/ＦＵＬＬ２０２４.mp4', 'full2024'],
    ['uploads/no-extension', 'no-extension'],
    ['uploads/Series/S01/E02 – Pilot.mov', 'series-s01-e02-pilot'],
  ])('derives %j as %j', (key, expected) => {
    // Act
    const assetId = assetIdFromKey(key);
    // Assess
    expect(assetId).toBe(expected);
  });

  it('gives a re-upload of the same name the same asset id', () => {
    expect(assetIdFromKey('uploads/Big Buck.mov')).toBe(assetIdFromKey('uploads/Big Buck.mov'));
  });

  it('produces ids the playback paths accept', () => {
    // Prepare
    const ids = ['uploads/Big Buck.mov', `uploads/${'Very long title '.repeat(20)}.mov`, 'uploads/a/b/c/ä.mp4'].map(assetIdFromKey);
    // Assess
    for (const id of ids) {
      expect(isAssetId(id)).toBe(true);
      expect(parsePlaybackPath(`/steer/${id}`)).toEqual({ kind: 'steer', assetId: id });
    }
  });

  it('caps long names and keeps two long names with a shared beginning distinct', () => {
    // Prepare
    const prefix = 'A documentary about the history of streaming video on the internet';
    // Act
    const first = assetIdFromKey(`uploads/${prefix} part one.mov`);
    const second = assetIdFromKey(`uploads/${prefix} part two.mov`);
    // Assess
    expect(first.length).toBeLessThanOrEqual(MAX_ASSET_ID_LENGTH);
    expect(second.length).toBeLessThanOrEqual(MAX_ASSET_ID_LENGTH);
    expect(first).not.toBe(second);
    expect(first).toMatch(/^a-documentary-about-the-history-of-streaming-video-on-[0-9a-f]{8}$/);
    expect(assetIdFromKey(`uploads/${prefix} part one.mov`)).toBe(first);
  });

  it('rejects a name with no usable letters or digits, saying how to fix it', () => {
    // Act + Assess
    expect(() => assetIdFromKey('uploads/今晩は.mov')).toThrow(InvalidAssetNameError);
    expect(() => assetIdFromKey('uploads/---.mp4')).toThrow(/rename the file/);
  });

  it('rejects a key outside uploads/', () => {
    expect(() => assetIdFromKey('media/foo/1/main.m3u8')).toThrow(InvalidAssetNameError);
  });

  it('slugify leaves nothing but [a-z0-9] runs joined by single dashes', () => {
    expect(slugify('--Hello,   World!!--')).toBe('hello-world');
  });
});

describe('revisionFromUpload', () => {
  const upload = {
    time: '2024-05-14T09:21:07Z',
    key: 'uploads/Big Buck.mov',
    sequencer: '0066432B73A1C2D9E4',
    etag: '6f5902ac237024bdd0c176cb93063dc4-88',
    requestId: 'N4N7GDK58NMKJ12R',
  };

  it('gives a duplicate delivery of one upload the same revision', () => {
    expect(revisionFromUpload({ ...upload })).toEqual(revisionFromUpload({ ...upload }));
  });

  it('leads with the UTC upload time and pads the sequencer to a fixed width', () => {
    // Act
    const { revision, uploadedAt } = revisionFromUpload(upload);
    // Assess
    expect(revision).toBe('20240514-092107-0066432b73a1c2d9e4000000');
    expect(uploadedAt).toBe('2024-05-14T09:21:07.000Z');
    expect(isRevision(revision)).toBe(true);
    expect(parsePlaybackPath(`/play/big-buck/${revision}/main.m3u8`)).not.toBeNull();
  });

  it('sorts a later re-upload after the earlier one', () => {
    // Prepare
    const earlier = revisionFromUpload(upload).revision;
    const nextDay = revisionFromUpload({ ...upload, time: '2024-05-15T08:00:00Z', sequencer: '00664471A0B0C0D0E1' }).revision;
    // Same second: S3 compares sequencers of one key right-padded with zeros.
    const sameSecond = revisionFromUpload({ ...upload, sequencer: '0066432B73A1C2D9E5' }).revision;
    // Assess
    expect(nextDay > earlier).toBe(true);
    expect(sameSecond > earlier).toBe(true);
  });

  it('falls back to a hash of the request when the event has no sequencer', () => {
    // Act
    const first = revisionFromUpload({ ...upload, sequencer: undefined });
    const again = revisionFromUpload({ ...upload, sequencer: undefined });
    const other = revisionFromUpload({ ...upload, sequencer: undefined, requestId: 'OTHER' });
    // Assess
    expect(first.revision).toMatch(/^20240514-092107-[0-9a-f]{24}$/);
    expect(again).toEqual(first);
    expect(other.revision).not.toBe(first.revision);
  });

  it('rejects an event time that is not a date', () => {
    expect(() => revisionFromUpload({ ...upload, time: 'yesterday' })).toThrow(InvalidUploadEventError);
  });
});

describe('jobRequestToken', () => {
  it('is the same for the same revision and differs per revision and stack', () => {
    const token = jobRequestToken('stack-a', 'big-buck', 'r1');
    expect(jobRequestToken('stack-a', 'big-buck', 'r1')).toBe(token);
    expect(jobRequestToken('stack-a', 'big-buck', 'r2')).not.toBe(token);
    expect(jobRequestToken('stack-b', 'big-buck', 'r1')).not.toBe(token);
    expect(token).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('classifyUploadKey', () => {
  it.each(['uploads/Big Buck.mov', 'uploads/trailers/Foo.MP4', 'uploads/archive.zip', 'uploads/noext'])(
    'treats %j as a master candidate',
    (key) => {
      expect(classifyUploadKey(key).kind).toBe('master');
    },
  );

  it('reports the lower-cased extension and the path below uploads/', () => {
    expect(classifyUploadKey('uploads/trailers/Foo.MOV')).toEqual({
      kind: 'master',
      key: 'uploads/trailers/Foo.MOV',
      relativePath: 'trailers/Foo.MOV',
      extension: '.mov',
    });
  });

  it.each([
    ['uploads/trailers/', 'folder-marker'],
    ['uploads/Big Buck.SRT', 'sidecar'],
    ['uploads/Big Buck.vtt', 'sidecar'],
    ['uploads/Big Buck.mov.md5', 'sidecar'],
    ['uploads/delivery/notes.TXT', 'sidecar'],
    ['uploads/poster.jpg', 'sidecar'],
    ['uploads/.DS_Store', 'hidden-file'],
    ['uploads/._Big Buck.mov', 'hidden-file'],
    ['media/big-buck/1/main.m3u8', 'outside-uploads'],
    ['uploads/', 'outside-uploads'],
  ])('ignores %j as %s', (key, reason) => {
    // Act
    const result = classifyUploadKey(key);
    // Assess
    expect(result).toMatchObject({ kind: 'ignored', reason });
  });
});

describe('decodeNotificationKey', () => {
  it('decodes the form encoding of classic S3 notifications', () => {
    expect(decodeNotificationKey('uploads/red+flower.jpg')).toBe('uploads/red flower.jpg');
    expect(decodeNotificationKey('uploads/my+summer%282024%29+%2B+more.mov')).toBe('uploads/my summer(2024) + more.mov');
    expect(decodeNotificationKey('uploads/Cr%C3%A8me.mov')).toBe('uploads/Crème.mov');
  });

  it('returns a malformed escape undecoded instead of throwing', () => {
    expect(decodeNotificationKey('uploads/100%+done.mov')).toBe('uploads/100% done.mov');
  });
});

describe('encodeNotificationKey', () => {
  it.each([
    ['uploads/red flower.jpg', 'uploads/red+flower.jpg'],
    ['uploads/My Movie (Final) + été.mov', 'uploads/My+Movie+%28Final%29+%2B+%C3%A9t%C3%A9.mov'],
    ['uploads/100%/a=b&c;d,e:f@g$h.mov', 'uploads/100%25/a%3Db%26c%3Bd%2Ce%3Af%40g%24h.mov'],
    ["uploads/it's ~*!.mov", 'uploads/it%27s+%7E%2A%21.mov'],
    ['uploads/a-b_c.d.mov', 'uploads/a-b_c.d.mov'],
  ])('writes %j as S3 writes it in events: %j', (key, encoded) => {
    expect(encodeNotificationKey(key)).toBe(encoded);
  });

  it('round-trips any key through the decoder (seeded fuzz over ASCII, Latin, CJK, emoji and marks)', () => {
    // Prepare
    const random = seededRandom(20261202);
    const alphabet = [...' +%/()[]!~*\'&=?#:;,.-_azAZ09éÉßø今晩\u0301\u00a0😀\t'];
    // Act + Assess
    for (let i = 0; i < 500; i++) {
      const key = `uploads/${Array.from({ length: 1 + Math.floor(random() * 40) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('')}`;
      const encoded = encodeNotificationKey(key);
      expect(encoded, key).toMatch(/^uploads\/[A-Za-z0-9%+._\-/]*$/);
      expect(decodeNotificationKey(encoded), key).toBe(key);
      expect(notificationKeyCandidates(encoded)[0], key).toBe(key);
    }
  });
});

describe('notificationKeyCandidates', () => {
  it('lists the form-decoded, the percent-decoded and the verbatim key, most likely first, without repeats', () => {
    expect(notificationKeyCandidates('uploads/a+b%20c.mov')).toEqual(['uploads/a b c.mov', 'uploads/a+b c.mov', 'uploads/a+b%20c.mov']);
    expect(notificationKeyCandidates('uploads/plain.mov')).toEqual(['uploads/plain.mov']);
    expect(notificationKeyCandidates('uploads/a+b.mov')).toEqual(['uploads/a b.mov', 'uploads/a+b.mov']);
  });

  it('drops the decoded forms of a key with a malformed escape', () => {
    expect(notificationKeyCandidates('uploads/100%+done.mov')).toEqual(['uploads/100%+done.mov']);
    expect(notificationKeyCandidates('uploads/%E9t%E9.mov')).toEqual(['uploads/%E9t%E9.mov']);
  });
});

describe('unusableKeyReason', () => {
  it.each([
    ['uploads/a\nb.mov', 'U+000A'],
    ['uploads/a\rb.mov', 'U+000D'],
    ['uploads/a\u0000b.mov', 'U+0000'],
    ['uploads/a\u007fb.mov', 'U+007F'],
    ['uploads/a\u0085b.mov', 'U+0085'],
    ['uploads/a\u2028b.mov', 'U+2028'],
    ['uploads/a\u2029b.mov', 'U+2029'],
  ])('refuses %j, naming %s', (key, codePoint) => {
    expect(unusableKeyReason(key)).toContain(codePoint);
  });

  it('refuses a key longer than 1,024 bytes of UTF-8, counting bytes, not characters', () => {
    expect(unusableKeyReason(`uploads/${'é'.repeat(508)}`)).toBeUndefined();
    expect(unusableKeyReason(`uploads/${'é'.repeat(509)}`)).toContain('1026 bytes');
  });

  it.each(['uploads/My Movie (Final) + été.mov', 'uploads/e\u0301te\u0301.mov', 'uploads/今晩は 🎬.mov', 'uploads/a\u00a0b.mov'])(
    'accepts %j',
    (key) => {
      expect(unusableKeyReason(key)).toBeUndefined();
    },
  );
});
