// Reference player of the local twin (docs/local-twin.md; ADR 0081): a signed session from the playback API, then
// hls.js, dash.js or Shaka Player (`&player=shaka`, `&format=dash|hls`) with content steering and CMCD v2
// event reports to the session's reportUrl. `&stock=1` runs the player as it ships: no failover policy and
// the library's own buffer (the twin's player-matrix e2e test plays them so; docs/benchmarks.md).
// Opened for an asset that is not playable yet, it shows the asset's catalog state and starts by
// itself once the asset is READY (docs/adr/0081-twin-player-waits-and-keeps-a-short-buffer.md).
//
// `window.__twin` exposes what the e2e tests assert on: currentTime, firstFrameMs, pathway, segments,
// stalls, currentStallMs, errors, warnings, session, plus `ended` (the media element reached the end)
// and `assetState` (the catalog status while waiting — RECEIVED, SUBMITTED, PROGRESSING, FAILED, or
// NOT_IN_CATALOG — and READY once a session was issued). Audio languages and subtitles (ADR 0095), read from
// the player's own track API: `audioTracks`/`textTracks` ({id, language, label, kind}), the selected
// `audioTrack`/`audioLanguage` and `textTrack`/`textLanguage` (null = subtitles off), `cueText` (the text of
// the cues the browser is showing now), `audioSegments` ({at, url, language}), and the picture: `videoWidth`/
// `videoHeight` (decoded size) and `videoRange`/`videoCodec` of the rendition playing. `&audio=fr&subtitles=en`
// picks tracks by language once the player lists them.
(function () {
  'use strict';
  const params = new URLSearchParams(location.search);
  const assetId = params.get('asset') || 'twin-sample';
  const PLAYERS = ['hls', 'dash', 'shaka'];
  const kind = PLAYERS.includes(params.get('player')) ? params.get('player') : 'hls';
  // The manifest a player plays: hls.js HLS, dash.js DASH, Shaka either (DASH unless `&format=hls`).
  const format = kind === 'shaka' ? (params.get('format') === 'hls' ? 'hls' : 'dash') : kind;
  const stock = params.get('stock') === '1';
  const video = document.getElementById('video');
  const $ = (id) => document.getElementById(id);
  $('asset').value = assetId;
  $('player-kind').value = kind;
  $('format').value = format;

  // The twin keeps a short forward buffer by default (docs/local-twin.md, "Why the player keeps a short
  // buffer"): over loopback a stock player fills 30 s or more of a 3-minute asset within seconds and then
  // makes no request for half a minute, so breaking its CDN changes nothing you can see. With ~8 s it
  // asks for a 6 s segment every few seconds and a broken CDN moves it at once. `&maxBuffer=<s>`
  // overrides; `&maxBuffer=0` (or `&stock=1`) keeps the libraries' own defaults (hls.js 30 s, dash.js 12–30 s, Shaka 10 s).
  const DEFAULT_MAX_BUFFER_SECONDS = 8;
  // `&stock=1` alone keeps the library's buffer too.
  const maxBufferParam = params.get('maxBuffer') ?? (stock ? '0' : null);
  const maxBuffer = maxBufferParam === null ? DEFAULT_MAX_BUFFER_SECONDS : Number(maxBufferParam) > 0 ? Number(maxBufferParam) : undefined;

  /** How often the catalog is read while waiting for the asset to become READY. */
  const WAIT_POLL_MS = 2000;
  // The operator page's colours, in the same CDN order (registry order from /twin/config.json).
  const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#D55E00', '#56B4E9'];

  const state = {
    player: kind,
    format,
    stock,
    assetId,
    assetState: null,
    assetReason: null,
    sessionId: null,
    startedAt: performance.now(),
    firstFrameMs: null,
    currentTime: 0,
    ended: false,
    maxBufferSeconds: maxBuffer ?? null,
    pathway: null,
    pathwaysSeen: [],
    pathwaySwitches: [],
    segments: [],
    bitrateKbps: null,
    bufferSeconds: 0,
    stalls: [],
    currentStallMs: 0,
    errors: [],
    warnings: [],
    audioTracks: [],
    audioTrack: null,
    audioLanguage: null,
    textTracks: [],
    textTrack: null,
    textLanguage: null,
    cueText: null,
    audioSegments: [],
    videoWidth: 0,
    videoHeight: 0,
    videoRange: null,
    videoCodec: null,
  };
  window.__twin = state;

  let pathwayByOrigin = new Map();
  let colourByPathway = new Map();
  const pathwayOf = (url) => {
    try {
      return pathwayByOrigin.get(new URL(url, location.href).origin) || null;
    } catch {
      return null;
    }
  };
  const clock = (epochMs) => new Date(epochMs).toLocaleTimeString('en-GB', { hour12: false });
  const mediaClock = (seconds) => `${Math.floor(seconds / 60)}:${String(Math.floor(seconds % 60)).padStart(2, '0')}`;

  function segmentLoaded(url, bitrateKbps) {
    const pathway = pathwayOf(url);
    const at = Date.now();
    state.segments.push({ at, pathway, url });
    if (state.segments.length > 500) state.segments.shift();
    if (pathway) {
      if (state.pathway && state.pathway !== pathway) {
        state.pathwaySwitches.push({ at, from: state.pathway, to: pathway, mediaTime: Math.round(video.currentTime * 10) / 10 });
        renderSwitches();
      }
      state.pathway = pathway;
      if (!state.pathwaysSeen.includes(pathway)) state.pathwaysSeen.push(pathway);
    }
    if (bitrateKbps) state.bitrateKbps = Math.round(bitrateKbps);
  }

  function audioSegmentLoaded(url, language) {
    state.audioSegments.push({ at: Date.now(), url, language: language || null });
    if (state.audioSegments.length > 500) state.audioSegments.shift();
  }

  function renderSwitches() {
    const list = document.createElement('ol');
    list.start = Math.max(1, state.pathwaySwitches.length - 7);
    for (const s of state.pathwaySwitches.slice(-8)) {
      const li = document.createElement('li');
      li.textContent = `${clock(s.at)}: ${s.from} → ${s.to} (at ${mediaClock(s.mediaTime)} in the video)`;
      list.append(li);
    }
    $('switches').replaceChildren(list);
  }

  // Non-fatal player errors (retries, level and pathway switches), stamped with ms since page start.
  function warn(message) {
    state.warnings.push(`+${Math.round(performance.now() - state.startedAt)}ms ${message}`);
    if (state.warnings.length > 200) state.warnings.shift();
  }

  function fail(message) {
    state.errors.push(String(message));
    $('errors').textContent = state.errors.join('\n');
    $('errors').classList.add('has-errors');
  }

  // Stalls: a `waiting` after playback began, until the next `playing` (time-based rebuffering).
  let stallStart = null;
  /** performance.now() when the session was issued (after any wait for READY). */
  let sessionAt = null;
  video.addEventListener('playing', () => {
    if (state.firstFrameMs === null) state.firstFrameMs = Math.round(performance.now() - state.startedAt);
    if (stallStart !== null) {
      state.stalls.push({ at: Date.now(), ms: Math.round(performance.now() - stallStart) });
      stallStart = null;
    }
  });
  video.addEventListener('waiting', () => {
    if (state.firstFrameMs !== null && stallStart === null) stallStart = performance.now();
  });
  // `ended` fires only when every buffer reached the end of the stream (MSE endOfStream): the check that
  // no rendition is longer than the others (issue 13: a trailing audio segment kept hls.js at 11.96 s).
  video.addEventListener('ended', () => {
    state.ended = true;
    stallStart = null;
  });
  video.addEventListener('play', () => (state.ended = false));
  video.addEventListener('error', () => fail(`media element error ${video.error && video.error.code}: ${video.error && video.error.message}`));

  setInterval(() => {
    state.currentTime = video.currentTime;
    const ranges = video.buffered;
    let ahead = 0;
    for (let i = 0; i < ranges.length; i++) {
      if (ranges.start(i) <= video.currentTime && video.currentTime <= ranges.end(i)) ahead = ranges.end(i) - video.currentTime;
    }
    state.bufferSeconds = Math.round(ahead * 10) / 10;
    state.currentStallMs = stallStart === null ? 0 : Math.round(performance.now() - stallStart);
    $('pathway').textContent = state.pathway || '–';
    const badge = $('now-playing');
    if (state.pathway) {
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = colourByPathway.get(state.pathway) || '#999';
      badge.replaceChildren(swatch, `from ${state.pathway}`);
      badge.hidden = false;
    }
    $('bitrate').textContent = state.bitrateKbps ? `${state.bitrateKbps} kbit/s` : '–';
    refreshTracks();
    $('buffer').textContent = `${state.bufferSeconds} s (target ${state.maxBufferSeconds === null ? "the player's default" : `${state.maxBufferSeconds} s`})`;
    $('stalls').textContent = `${state.stalls.length}${stallStart !== null ? ' (stalled now)' : ''}`;
    // firstFrameMs counts from page load (what the e2e figures report); after a wait, also from READY.
    const sinceReady = sessionAt !== null && sessionAt - state.startedAt > 1000 ? ` (${Math.round(state.startedAt + state.firstFrameMs - sessionAt)} ms after READY)` : '';
    $('ttff').textContent = state.firstFrameMs === null ? '–' : `${state.firstFrameMs} ms${sinceReady}`;
    if (state.session) {
      const duration = Number.isFinite(video.duration) ? ` / ${mediaClock(video.duration)}` : '';
      $('playback').textContent = state.ended ? `ended at ${mediaClock(video.currentTime)}` : `${mediaClock(video.currentTime)}${duration}${video.paused ? ' (paused)' : ''}`;
    }
  }, 250);

  // ---------- audio languages and subtitles ----------
  //
  // Each player keeps its own track model; `tracks` puts the three behind one shape so the menus and
  // `window.__twin` read the same whichever plays (docs/adr/0095-twin-player-track-menus.md):
  //   audio() / text()          the renditions offered now: [{id, language, label, kind}]
  //   currentAudio() / currentText()   the selected one's id (text: null when subtitles are off)
  //   selectAudio(id) / selectText(id | null)
  //   picture()                 {range, codec} of the video rendition playing, or null before one is
  // Ids are the player's own indexes, only meaningful to the same player.
  let tracks = null;
  let tracksShown = '';
  /** The last track-state failure warned about, so a persisting one is logged once, not every tick. */
  let lastTrackWarning = null;
  // `&audio=<language>` and `&subtitles=<language>` choose the audio and subtitle tracks once the player lists
  // them (a link to a language; the docs' screenshot). `fr` matches `fr` and `fr-CA`.
  const wanted = { audio: params.get('audio'), text: params.get('subtitles') };
  const speaks = (track, tag) => {
    const have = (track.language || '').toLowerCase();
    const want = tag.toLowerCase();
    return have === want || have.startsWith(`${want}-`);
  };
  /** Applies a `&audio=`/`&subtitles=` choice the first time the player lists tracks of that kind. */
  function applyWantedTracks() {
    for (const [kind, list, current, select] of [
      ['audio', state.audioTracks, state.audioTrack, (id) => tracks.selectAudio(id)],
      ['text', state.textTracks, state.textTrack, (id) => tracks.selectText(id)],
    ]) {
      if (!wanted[kind] || list.length === 0) continue;
      const track = list.find((t) => speaks(t, wanted[kind]));
      const tag = wanted[kind];
      wanted[kind] = null;
      if (!track) warn(`no ${kind} track in language "${tag}" (have ${list.map((t) => t.language).join(', ')})`);
      else if (track.id !== current) {
        try {
          select(track.id);
        } catch (error) {
          warn(`could not choose the ${kind} track "${tag}": ${error.message || error}`);
        }
      }
    }
  }
  const languageNames = typeof Intl.DisplayNames === 'function' ? new Intl.DisplayNames(['en'], { type: 'language' }) : null;
  const languageName = (tag) => {
    if (!tag || tag === 'und') return 'Undetermined';
    try {
      return (languageNames && languageNames.of(tag)) || tag;
    } catch {
      return tag;
    }
  };
  const trackTitle = (track) => `${track.label || languageName(track.language)} (${track.language || 'und'})${track.kind === 'captions' ? ' CC' : ''}`;

  /** The text of the cues the browser shows now: every player here renders WebVTT through the media element's text tracks. */
  function shownCueText() {
    const lines = [];
    for (const track of Array.from(video.textTracks)) {
      if (track.mode !== 'showing' || !track.activeCues) continue;
      for (const cue of Array.from(track.activeCues)) if (cue.text) lines.push(cue.text);
    }
    return lines.length > 0 ? lines.join('\n') : null;
  }

  function refreshTracks() {
    state.videoWidth = video.videoWidth;
    state.videoHeight = video.videoHeight;
    state.cueText = shownCueText();
    $('cue').textContent = state.cueText || (state.textTrack === null ? 'subtitles off' : '–');
    if (!tracks) return;
    try {
      const picture = tracks.picture();
      state.videoRange = picture ? picture.range : null;
      state.videoCodec = picture ? picture.codec : null;
      state.audioTracks = tracks.audio();
      state.audioTrack = tracks.currentAudio();
      state.textTracks = tracks.text();
      state.textTrack = tracks.currentText();
    } catch (error) {
      // A player between manifests (a reload, a period change) may not answer yet; the next tick asks again.
      const message = `track state unavailable: ${error.message || error}`;
      if (message !== lastTrackWarning) warn(message);
      lastTrackWarning = message;
      return;
    }
    lastTrackWarning = null;
    const byId = (list, id) => list.find((t) => t.id === id) || null;
    applyWantedTracks();
    state.audioLanguage = (byId(state.audioTracks, state.audioTrack) || {}).language || null;
    state.textLanguage = (byId(state.textTracks, state.textTrack) || {}).language || null;
    if (video.videoWidth > 0) {
      const aspect = (video.videoWidth / video.videoHeight).toFixed(2);
      const range = state.videoRange ? `, ${state.videoRange}` : '';
      const codec = state.videoCodec ? `, ${state.videoCodec}` : '';
      $('picture').textContent = `${video.videoWidth}×${video.videoHeight} (${aspect}:1${range}${codec})`;
    }
    renderTrackMenus();
  }

  /**
   * The audio and subtitle menus: rebuilt when what they offer changes, and otherwise only their checked
   * radio moved to what the player says it plays (a click is shown once the player has switched).
   */
  function renderTrackMenus() {
    const offered = JSON.stringify([state.audioTracks, state.textTracks]);
    if (offered !== tracksShown) {
      tracksShown = offered;
      const option = (name, value, text, onChoose) => {
        const label = document.createElement('label');
        const input = document.createElement('input');
        input.type = 'radio';
        input.name = name;
        input.value = value;
        input.addEventListener('change', () => {
          try {
            onChoose();
          } catch (error) {
            fail(`could not switch ${name}: ${error.message || error}`);
          }
        });
        label.append(input, text);
        return label;
      };
      const audioMenu = $('audio-menu');
      audioMenu.replaceChildren(audioMenu.querySelector('legend'),
        ...state.audioTracks.map((t) => option('audio', t.id, trackTitle(t), () => tracks.selectAudio(t.id))));
      const textMenu = $('text-menu');
      textMenu.replaceChildren(textMenu.querySelector('legend'),
        option('subtitles', 'off', 'Off', () => tracks.selectText(null)),
        ...state.textTracks.map((t) => option('subtitles', t.id, trackTitle(t), () => tracks.selectText(t.id))));
      audioMenu.hidden = state.audioTracks.length === 0;
      textMenu.hidden = state.textTracks.length === 0;
      $('tracks').hidden = state.audioTracks.length === 0 && state.textTracks.length === 0;
    }
    for (const input of $('audio-menu').querySelectorAll('input')) input.checked = input.value === state.audioTrack;
    for (const input of $('text-menu').querySelectorAll('input')) input.checked = input.value === (state.textTrack ?? 'off');
  }

  /** hls.js: `audioTracks`/`audioTrack` and `subtitleTracks`/`subtitleTrack` index the current variant's groups. */
  function hlsTracks(hls) {
    const isCaptions = (t) => /transcribes-spoken-dialog/.test(t.characteristics || '');
    return {
      audio: () => hls.audioTracks.map((t, i) => ({ id: String(i), language: t.lang || 'und', label: t.name || null, kind: 'main' })),
      currentAudio: () => (hls.audioTrack >= 0 ? String(hls.audioTrack) : null),
      selectAudio: (id) => void (hls.audioTrack = Number(id)),
      text: () => hls.subtitleTracks.map((t, i) => ({ id: String(i), language: t.lang || 'und', label: t.name || null, kind: isCaptions(t) ? 'captions' : 'subtitles' })),
      currentText: () => (hls.subtitleTrack >= 0 && hls.subtitleDisplay ? String(hls.subtitleTrack) : null),
      selectText: (id) => {
        if (id === null) {
          hls.subtitleTrack = -1;
          return;
        }
        hls.subtitleDisplay = true;
        hls.subtitleTrack = Number(id);
      },
      picture: () => {
        const level = hls.levels[hls.currentLevel];
        return level ? { range: level.videoRange || 'SDR', codec: level.videoCodec || null } : null;
      },
    };
  }

  // DASH signals an adaptation set's transfer function as a cicp property (ISO/IEC 23001-8: 16 PQ, 18 HLG;
  // ADR 0016); without one the set is SDR.
  const CICP_TRANSFER = 'urn:mpeg:mpegB:cicp:TransferCharacteristics';
  const rangeOfTransfer = (values) => (values.includes('16') ? 'PQ' : values.includes('18') ? 'HLG' : 'SDR');

  /**
   * dash.js: audio by MediaInfo (`getTracksFor`/`setCurrentTrack`); text by `setTextTrack(index)`, whose index is
   * the order of the text tracks dash.js added to the media element (TEXT_TRACKS_ADDED), and `enableText`.
   */
  function dashTracks(player, events) {
    let textTracks = [];
    player.on(events.TEXT_TRACKS_ADDED, (e) => void (textTracks = e.tracks || []));
    const audio = () => player.getTracksFor('audio') || [];
    const sameTrack = (a, b) => a === b || (a && b && a.id === b.id && a.index === b.index && a.lang === b.lang);
    const labelOf = (t) => (t.labels && t.labels[0] && t.labels[0].text) || null;
    return {
      audio: () => audio().map((t, i) => ({ id: String(i), language: t.lang || 'und', label: labelOf(t), kind: 'main' })),
      currentAudio: () => {
        const current = player.getCurrentTrackFor('audio');
        const index = audio().findIndex((t) => sameTrack(t, current));
        return index >= 0 ? String(index) : null;
      },
      selectAudio: (id) => player.setCurrentTrack(audio()[Number(id)]),
      text: () => textTracks.map((t, i) => ({ id: String(i), language: t.lang || 'und', label: t.label || null, kind: t.kind === 'captions' ? 'captions' : 'subtitles' })),
      currentText: () => {
        const index = player.isTextEnabled() ? player.getCurrentTextTrackIndex() : -1;
        return Number.isInteger(index) && index >= 0 ? String(index) : null;
      },
      selectText: (id) => {
        if (id === null) {
          player.enableText(false);
          return;
        }
        player.enableText(true);
        player.setTextTrack(Number(id));
      },
      picture: () => {
        const current = player.getCurrentTrackFor('video');
        if (!current) return null;
        const properties = [...(current.essentialProperties || []), ...(current.supplementalProperties || [])];
        const transfer = properties.filter((p) => p.schemeIdUri === CICP_TRANSFER).map((p) => String(p.value));
        return { range: rangeOfTransfer(transfer), codec: current.codec || null };
      },
    };
  }

  /** Shaka: `getAudioTracks`/`selectAudioTrack` (tracks of the current video), `getTextTracks`/`selectTextTrack` (null hides). */
  function shakaTracks(player) {
    return {
      audio: () => player.getAudioTracks().map((t, i) => ({ id: String(i), language: t.language || 'und', label: t.label || null, kind: 'main' })),
      currentAudio: () => {
        const index = player.getAudioTracks().findIndex((t) => t.active);
        return index >= 0 ? String(index) : null;
      },
      selectAudio: (id) => player.selectAudioTrack(player.getAudioTracks()[Number(id)]),
      text: () => player.getTextTracks().map((t) => ({ id: String(t.id), language: t.language || 'und', label: t.label || null, kind: t.kind === 'caption' ? 'captions' : 'subtitles' })),
      // Shaka 5 streams a text track it does not show (selectTextTrack(null) only hides it) and exports no
      // visibility getter; its NativeTextDisplayer shows cues through a `showing` track of the media element.
      currentText: () => {
        const active = player.getTextTracks().find((t) => t.active);
        const shown = Array.from(video.textTracks).some((t) => t.mode === 'showing');
        return active && shown ? String(active.id) : null;
      },
      selectText: (id) => player.selectTextTrack(id === null ? null : player.getTextTracks().find((t) => String(t.id) === id)),
      picture: () => {
        const active = player.getVariantTracks().find((t) => t.active);
        return active ? { range: active.hdr || 'SDR', codec: active.videoCodec || null } : null;
      },
    };
  }

  const PLAYER_NAMES = { hls: 'hls.js', dash: 'dash.js', shaka: 'Shaka Player' };
  // Only sessions sampled for reports get a reportUrl (docs/adr/0058-player-reports-sampled-per-session.md).
  const CMCD_EVENTS = ['t', 'ps', 'e', 'rr', 'bc'];
  // dash.js 5 sends only the keys listed per event target (its default is none: a line is just `e,ts,v`),
  // and the ingest refuses lines whose `sid` is not the token's (ADR 0052), so dash.js must be told
  // which keys to report. These are the ones core/cmcd-report.ts turns into QoE samples, plus identity.
  const CMCD_REPORT_KEYS = ['v', 'sid', 'cid', 'sn', 'sta', 'msd', 'br', 'bl', 'mtp', 'bs', 'su', 'ot', 'd', 'tb', 'cdn', 'url', 'rc', 'ttfb', 'ttlb'];

  // Retry policy for multi-CDN playback with content steering (docs/adr/0075-player-failover-policy.md).
  // hls.js 1.7 escalates a failing request in this order: retries on the same URL, then every other level
  // of the same pathway, and only when none is left does the content-steering controller penalise the
  // pathway and move to the next one in PATHWAY-PRIORITY (error-controller getLevelSwitchAction →
  // MoveAllAlternatesMatchingHost). The defaults (6 fragment retries, 1-8 s exponential back-off) keep a
  // player on a dead CDN for ~30 s; one quick retry per request reaches the other pathway in a few
  // seconds, well inside a normal forward buffer. A single retry still absorbs a one-off 5xx.
  const quickRetry = { maxNumRetry: 1, retryDelayMs: 500, maxRetryDelayMs: 1000 };
  const oneTimeoutRetry = { maxNumRetry: 1, retryDelayMs: 0, maxRetryDelayMs: 0 };
  const HLS_FAILOVER_POLICY = {
    fragLoadPolicy: {
      default: { maxTimeToFirstByteMs: 5000, maxLoadTimeMs: 60000, timeoutRetry: oneTimeoutRetry, errorRetry: quickRetry },
    },
    playlistLoadPolicy: {
      default: { maxTimeToFirstByteMs: 5000, maxLoadTimeMs: 10000, timeoutRetry: oneTimeoutRetry, errorRetry: quickRetry },
    },
  };

  function playHls(session) {
    if (!window.Hls || !window.Hls.isSupported()) return fail('hls.js is not supported in this browser');
    const Hls = window.Hls;
    const hls = new Hls({
      ...(stock ? {} : HLS_FAILOVER_POLICY),
      // `?debug=1` turns on hls.js's own log in the browser console.
      debug: params.get('debug') === '1',
      ...(maxBuffer ? { maxBufferLength: maxBuffer, maxMaxBufferLength: maxBuffer } : {}),
      // Content steering is on whenever the playlist has EXT-X-CONTENT-STEERING (full build).
      cmcd: {
        version: 2,
        sessionId: session.sessionId,
        contentId: session.assetId,
        eventTargets: session.reportUrl ? [{ url: session.reportUrl, events: CMCD_EVENTS, batchSize: 4 }] : [],
      },
    });
    window.__hls = hls;
    tracks = hlsTracks(hls);
    hls.on(Hls.Events.FRAG_LOADED, (_e, data) => {
      if (data.frag.type === 'audio') {
        const track = hls.audioTracks[data.frag.level];
        return audioSegmentLoaded(data.frag.url, track && track.lang);
      }
      if (data.frag.type !== 'main') return;
      const level = hls.levels[data.frag.level];
      segmentLoaded(data.frag.url, level ? level.bitrate / 1000 : null);
    });
    hls.on(Hls.Events.ERROR, (_e, data) => {
      const message = `${data.type}/${data.details}${data.response ? ` (${data.response.code})` : ''}`;
      if (data.fatal) fail(message);
      else warn(message);
    });
    hls.loadSource(session.hls);
    hls.attachMedia(video);
    hls.on(Hls.Events.MANIFEST_PARSED, () => void video.play().catch((e) => fail(`play() rejected: ${e}`)));
  }

  /** dash.js Errors: DOWNLOAD_ERROR_ID_SIDX_CODE, DOWNLOAD_ERROR_ID_CONTENT_CODE, DOWNLOAD_ERROR_ID_INITIALIZATION_CODE. */
  const DASH_RECOVERABLE_DOWNLOAD_ERRORS = [26, 27, 28];

  function playDash(session) {
    if (!window.dashjs) return fail('dash.js did not load');
    const player = window.dashjs.MediaPlayer().create();
    window.__dash = player;
    player.updateSettings({
      streaming: {
        applyContentSteering: true,
        // dash.js keeps `bufferTimeDefault` ahead, more at the top quality (and more still for long content).
        ...(maxBuffer
          ? { buffer: { bufferTimeDefault: maxBuffer, bufferTimeAtTopQuality: maxBuffer, bufferTimeAtTopQualityLongForm: maxBuffer } }
          : {}),
        cmcd: {
          enabled: true,
          version: 2,
          sid: session.sessionId,
          cid: session.assetId,
          eventTargets: session.reportUrl
            ? [{ enabled: true, url: session.reportUrl, events: CMCD_EVENTS, enabledKeys: CMCD_REPORT_KEYS, batchSize: 4, interval: 10 }]
            : [],
        },
      },
    });
    const events = window.dashjs.MediaPlayer.events;
    tracks = dashTracks(player, events);
    player.on(events.FRAGMENT_LOADING_COMPLETED, (e) => {
      const request = e.request || {};
      if (request.mediaType === 'audio' && request.type === 'MediaSegment') return audioSegmentLoaded(request.url, request.mediaInfo && request.mediaInfo.lang);
      if (request.mediaType !== 'video' || request.type !== 'MediaSegment') return;
      segmentLoaded(request.url, request.bandwidth ? request.bandwidth / 1000 : null);
    });
    player.on(events.ERROR, (e) => {
      const code = e.error && e.error.code;
      const message = `dash.js error ${code}: ${e.error && e.error.message}`;
      // dash.js 5.2 raises every error on this one event and marks none fatal. A segment download that
      // failed after its retries (26 index, 27 media, 28 init segment: HTTPLoader) is reported and playback
      // goes on: the scheduler asks again, from the next BaseURL once the failed one is blocked. dash.js's
      // own fatal state is the media element's error (PLAYBACK_ERROR, its CMCD `sta=f`), caught below on
      // the video element. A CMCD report that could not be delivered is telemetry loss. Everything else
      // (manifest, MSE, capability errors) ends playback.
      if (DASH_RECOVERABLE_DOWNLOAD_ERRORS.includes(code) || message.includes('/v1/cmcd/')) warn(message);
      else fail(message);
    });
    player.initialize(video, session.dash, true);
  }

  // Shaka's request CMCD keys: all of v2's but `nor`. Shaka 5.2 bans a failed URI whole, query included, and
  // then drops every pathway whose host name occurs anywhere in a banned URI (content_steering_manager.js
  // getLocations: `uri.includes(domain)`). Once one pathway fails, the next segment's URI leads with another
  // pathway, so the failing request's `nor` names that pathway's host, and its ban takes the healthy pathway
  // with it; with every pathway banned Shaka falls back to the playlist's first PATHWAY-ID, the dead one, and
  // keeps asking it for media playlists until a CRITICAL 1001 (ADR 0093). Without `nor` a banned URI names
  // only its own host. The platform reads no `nor`.
  // The list is CML's (Shaka's CMCD library) CMCD_REQUEST_KEYS less `nor`.
  const SHAKA_REQUEST_CMCD_KEYS = [
    'ab', 'bg', 'bl', 'br', 'bs', 'bsa', 'bsd', 'bsda', 'cdn', 'cid', 'cs', 'd', 'dfa', 'dl', 'ec', 'lab', 'lb', 'ltc', 'msd',
    'mtp', 'nr', 'ot', 'pb', 'pr', 'pt', 'rtp', 'sf', 'sid', 'sn', 'st', 'sta', 'su', 'tab', 'tb', 'tbl', 'tpb', 'v',
  ];

  function playShaka(session) {
    const shaka = window.shaka;
    if (!shaka) return fail('Shaka Player did not load');
    shaka.polyfill.installAll();
    if (!shaka.Player.isBrowserSupported()) return fail('Shaka Player is not supported in this browser');
    const player = new shaka.Player();
    window.__shaka = player;
    // Shaka follows content steering by itself (DASH <ContentSteering>, HLS EXT-X-CONTENT-STEERING) and has no
    // failover policy to tune: a failed request bans the host for a while and the next pathway is used.
    player.configure({
      ...(maxBuffer ? { streaming: { bufferingGoal: maxBuffer } } : {}),
      // CMCD as Shaka sends it: v2 keys on every media request's query, plus event reports to the session's
      // reportUrl (every key when the target's `includeKeys` is empty; the ingest keeps the ones it reads).
      cmcd: {
        enabled: true,
        version: 2,
        sessionId: session.sessionId,
        contentId: session.assetId,
        includeKeys: SHAKA_REQUEST_CMCD_KEYS,
        eventTargets: session.reportUrl ? [{ enabled: true, useHeaders: false, url: session.reportUrl, events: CMCD_EVENTS, includeKeys: [], batchSize: 4 }] : [],
      },
    });
    tracks = shakaTracks(player);
    const RequestType = shaka.net.NetworkingEngine.RequestType;
    player.getNetworkingEngine().registerResponseFilter((type, response, context) => {
      const stream = context && context.stream;
      if (type === RequestType.SEGMENT && stream && stream.type === 'audio') return audioSegmentLoaded(response.uri, stream.language);
      if (type !== RequestType.SEGMENT || !stream || stream.type !== 'video') return;
      // A DASH Representation has its own bandwidth; an HLS rendition's is the variant's (Shaka's stats).
      const bandwidth = stream.bandwidth || player.getStats().streamBandwidth;
      segmentLoaded(response.uri, bandwidth ? bandwidth / 1000 : null);
    });
    player.addEventListener('error', (event) => {
      const error = event.detail || {};
      const uri = Array.isArray(error.data) && typeof error.data[0] === 'string' ? ` ${error.data[0]}` : '';
      const message = `shaka error ${error.code} (category ${error.category}, severity ${error.severity})${uri}`;
      // A CMCD report that could not be delivered is telemetry loss, not a playback failure; so is anything
      // Shaka recovers from (severity RECOVERABLE).
      if (error.severity === shaka.util.Error.Severity.CRITICAL && !uri.includes('/v1/cmcd/')) fail(message);
      else warn(message);
    });
    player
      .attach(video)
      .then(() => player.load(format === 'hls' ? session.hls : session.dash))
      .then(() => video.play())
      .catch((error) => fail(`Shaka could not start: ${error && (error.code ? `error ${error.code}` : error.message || error)}`));
  }

  /** The chosen player's library, the only one the page loads. */
  const LIBRARIES = { hls: '/vendor/hls.min.js', dash: '/vendor/dash.all.min.js', shaka: '/vendor/shaka-player.compiled.js' };
  function loadLibrary() {
    return new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = LIBRARIES[kind];
      script.onload = resolve;
      script.onerror = () => reject(new Error(`${LIBRARIES[kind]} did not load`));
      document.head.append(script);
    });
  }

  // ---------- waiting for the asset ----------

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  async function requestSession() {
    const answer = await fetch('/api/sessions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ assetId }),
    });
    return { status: answer.status, body: await answer.json().catch(() => ({})) };
  }

  /**
   * The asset's catalog entry from the operator API: `{status, playable, reason}`, status NOT_IN_CATALOG
   * before its upload is seen, or null when the operator API cannot answer (then the session is retried).
   */
  async function catalogState() {
    try {
      const answer = await fetch(`/operator/api/assets/${encodeURIComponent(assetId)}`, { cache: 'no-store' });
      if (answer.status === 404) return { status: 'NOT_IN_CATALOG', playable: false, reason: null };
      if (!answer.ok) return null;
      const { asset } = await answer.json();
      const latest = asset.latest || {};
      return {
        status: asset.status || latest.status || 'UNKNOWN',
        playable: Boolean(asset.currentRevision) && asset.status !== 'TAKEDOWN_PENDING' && asset.status !== 'TAKEN_DOWN',
        reason: latest.status === 'FAILED' ? latest.errorReason || 'no reason recorded' : null,
      };
    } catch {
      return null;
    }
  }

  const WAITING_TEXT = {
    NOT_IN_CATALOG: 'is not in the catalog yet: upload it (copy a master into .twin/drop/) and this page starts it when it is READY.',
    RECEIVED: 'was uploaded and is being probed.',
    SUBMITTED: 'is queued for encoding.',
    PROGRESSING: 'is being encoded.',
    FAILED: 'failed',
    TAKEDOWN_PENDING: 'is being taken down.',
    TAKEN_DOWN: 'was taken down.',
  };

  function showWaiting(catalog) {
    const box = $('waiting');
    const status = catalog ? catalog.status : 'NOT_PLAYABLE';
    state.assetState = status;
    state.assetReason = catalog ? catalog.reason : null;
    const what = catalog ? WAITING_TEXT[status] || `is ${status}.` : 'is not playable yet.';
    const reason = catalog && catalog.reason ? `: ${catalog.reason}. A new upload of the same name replaces it.` : '';
    box.textContent = `Asset ${assetId} ${what}${reason} Checking every ${WAIT_POLL_MS / 1000} s; playback starts by itself once it is READY.`;
    box.classList.toggle('failed', status === 'FAILED' || status === 'TAKEDOWN_PENDING' || status === 'TAKEN_DOWN');
    box.hidden = false;
    $('asset-state').textContent = status;
  }

  /** A session as soon as the asset is playable: the catalog is polled meanwhile, never a red 404. */
  async function waitForSession() {
    for (;;) {
      const { status, body } = await requestSession();
      if (status === 201) return body;
      if (status !== 404) throw new Error(`POST /sessions answered ${status}: ${body.reason || body.error || 'no reason'}`);
      let catalog;
      for (;;) {
        catalog = await catalogState();
        showWaiting(catalog);
        if (!catalog || catalog.playable) break;
        await sleep(WAIT_POLL_MS);
      }
      // Playable by the catalog (or no operator API to ask): try the session again after a short pause.
      await sleep(catalog ? 500 : WAIT_POLL_MS);
    }
  }

  async function start() {
    try {
      const [config] = await Promise.all([fetch('/twin/config.json').then((answer) => answer.json()), loadLibrary()]);
      pathwayByOrigin = new Map(config.cdns.map((c) => [new URL(c.endpoint).origin, c.id]));
      colourByPathway = new Map(config.cdns.map((c, i) => [c.id, PALETTE[i % PALETTE.length]]));
      const session = await waitForSession();
      $('waiting').hidden = true;
      state.assetState = 'READY';
      state.assetReason = null;
      $('asset-state').textContent = `READY (revision ${session.revision})`;
      sessionAt = performance.now();
      state.sessionId = session.sessionId;
      state.session = session;
      $('session').textContent = `${session.sessionId} (${PLAYER_NAMES[kind]}${kind === 'shaka' ? `, ${format.toUpperCase()}` : ''}${stock ? ', stock settings' : ''})`;
      if (kind === 'dash') playDash(session);
      else if (kind === 'shaka') playShaka(session);
      else playHls(session);
    } catch (error) {
      fail(`could not start: ${error.message || error}`);
    }
  }
  void start();
})();
