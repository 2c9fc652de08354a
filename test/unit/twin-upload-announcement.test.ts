import { describe, expect, it } from 'vitest';
import { describeUpload, playerUrlFor } from '../../local/twin/upload-announcement';

const PLAYER = 'http://127.0.0.1:4590/';

describe('twin upload announcement', () => {
  it('names the asset id submit-job derives from the key and the player URL that plays it', () => {
    expect(describeUpload('uploads/My Film.mp4', PLAYER)).toBe('uploads/My Film.mp4 → asset my-film → http://127.0.0.1:4590/?asset=my-film');
  });

  it('keeps folders in the id, as the catalog does', () => {
    expect(describeUpload('uploads/trailers/Straße Nº 5.mov', PLAYER)).toBe(
      'uploads/trailers/Straße Nº 5.mov → asset trailers-strasse-no-5 → http://127.0.0.1:4590/?asset=trailers-strasse-no-5',
    );
  });

  it('says a sidecar is not encoded instead of promising an asset', () => {
    expect(describeUpload('uploads/My Film.srt', PLAYER)).toBe('uploads/My Film.srt → not encoded: ".srt" files accompany masters and are not encoded');
  });

  it('says why a name that cannot become an asset id is rejected', () => {
    expect(describeUpload('uploads/!!!.mp4', PLAYER)).toMatch(/^uploads\/!!!\.mp4 → rejected: the name "!!!\.mp4" has no letters or digits/);
  });

  it('encodes the asset id as a query parameter of the player URL', () => {
    expect(playerUrlFor('http://127.0.0.1:4590/?player=dash', 'a-b')).toBe('http://127.0.0.1:4590/?player=dash&asset=a-b');
  });
});
