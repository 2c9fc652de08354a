// Reference player of the local twin (DESIGN.md §8): a signed session from the playback API, then
// hls.js or dash.js with content steering and CMCD v2 event reports to the session's reportUrl.
// `window.__twin` exposes what the e2e tests assert on.
(function () {
  'use strict';
  const params = new URLSearchParams(location.search);
  const assetId = params.get('asset') || 'twin-sample';
  const kind = params.get('player') === 'dash' ? 'dash' : 'hls';
  const video = document.getElementById('video');
  const $ = (id) => document.getElementById(id);
  document.getElementById('asset').value = assetId;
  document.getElementById('player-kind').value = kind;

  const state = {
    player: kind,
    assetId,
    sessionId: null,
    startedAt: performance.now(),
    firstFrameMs: null,
    currentTime: 0,
    pathway: null,
    pathwaysSeen: [],
    segments: [],
    bitrateKbps: null,
    bufferSeconds: 0,
    stalls: [],
    errors: [],
    warnings: [],
  };
  window.__twin = state;

  let pathwayByOrigin = new Map();
  const pathwayOf = (url) => {
    try {
      return pathwayByOrigin.get(new URL(url, location.href).origin) || null;
    } catch {
      return null;
    }
  };

  function segmentLoaded(url, bitrateKbps) {
    const pathway = pathwayOf(url);
    state.segments.push({ at: Date.now(), pathway, url });
    if (state.segments.length > 500) state.segments.shift();
    if (pathway) {
      state.pathway = pathway;
      if (!state.pathwaysSeen.includes(pathway)) state.pathwaysSeen.push(pathway);
    }
    if (bitrateKbps) state.bitrateKbps = Math.round(bitrateKbps);
  }

  // Non-fatal player errors (retries, level and pathway switches), stamped with ms since page start.
  function warn(message) {
    state.warnings.push(`+${Math.round(performance.now() - state.startedAt)}ms ${message}`);
    if (state.warnings.length > 200) state.warnings.shift();
  }

  function fail(message) {
    state.errors.push(String(message));
    $('errors').textContent = state.errors.join('\n');
  }

  // Stalls: a `waiting` after playback began, until the next `playing` (time-based rebuffering).
  let stallStart = null;
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
    $('bitrate').textContent = state.bitrateKbps ? `${state.bitrateKbps} kbit/s` : '–';
    $('buffer').textContent = `${state.bufferSeconds} s`;
    $('stalls').textContent = `${state.stalls.length}${stallStart !== null ? ' (stalled now)' : ''}`;
    $('ttff').textContent = state.firstFrameMs === null ? '–' : `${state.firstFrameMs} ms`;
  }, 250);

  const CMCD_EVENTS = ['t', 'ps', 'e', 'rr', 'bc'];
  // dash.js 5 sends only the keys listed per event target (its default is none: a line is just `e,ts,v`),
  // and the ingest refuses lines whose `sid` is not the token's (DESIGN.md §6), so dash.js must be told
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
    const maxBuffer = Number(params.get('maxBuffer')) || undefined;
    const hls = new Hls({
      ...HLS_FAILOVER_POLICY,
      // `?debug=1` turns on hls.js's own log in the browser console.
      debug: params.get('debug') === '1',
      // `?maxBuffer=<s>` keeps requests flowing on short assets (failover demos and tests).
      ...(maxBuffer ? { maxBufferLength: maxBuffer, maxMaxBufferLength: maxBuffer } : {}),
      // Content steering is on whenever the playlist has EXT-X-CONTENT-STEERING (full build).
      cmcd: {
        version: 2,
        sessionId: session.sessionId,
        contentId: session.assetId,
        eventTargets: [{ url: session.reportUrl, events: CMCD_EVENTS, batchSize: 4 }],
      },
    });
    window.__hls = hls;
    hls.on(Hls.Events.FRAG_LOADED, (_e, data) => {
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

  function playDash(session) {
    if (!window.dashjs) return fail('dash.js did not load');
    const player = window.dashjs.MediaPlayer().create();
    window.__dash = player;
    player.updateSettings({
      streaming: {
        applyContentSteering: true,
        cmcd: {
          enabled: true,
          version: 2,
          sid: session.sessionId,
          cid: session.assetId,
          eventTargets: [
            { enabled: true, url: session.reportUrl, events: CMCD_EVENTS, enabledKeys: CMCD_REPORT_KEYS, batchSize: 4, interval: 10 },
          ],
        },
      },
    });
    const events = window.dashjs.MediaPlayer.events;
    player.on(events.FRAGMENT_LOADING_COMPLETED, (e) => {
      const request = e.request || {};
      if (request.mediaType !== 'video' || request.type !== 'MediaSegment') return;
      segmentLoaded(request.url, request.bandwidth ? request.bandwidth / 1000 : null);
    });
    player.on(events.ERROR, (e) => {
      const message = `dash.js error ${e.error && e.error.code}: ${e.error && e.error.message}`;
      // A CMCD report that could not be delivered is telemetry loss, not a playback failure.
      if (message.includes('/v1/cmcd/')) warn(message);
      else fail(message);
    });
    player.initialize(video, session.dash, true);
  }

  async function start() {
    try {
      const config = await (await fetch('/twin/config.json')).json();
      pathwayByOrigin = new Map(config.cdns.map((c) => [new URL(c.endpoint).origin, c.id]));
      const answer = await fetch('/api/sessions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ assetId }),
      });
      const session = await answer.json();
      if (answer.status !== 201) return fail(`POST /sessions answered ${answer.status}: ${session.reason || session.error}`);
      state.sessionId = session.sessionId;
      state.session = session;
      $('session').textContent = `${session.sessionId} (${kind}, revision ${session.revision})`;
      if (kind === 'dash') playDash(session);
      else playHls(session);
    } catch (error) {
      fail(`could not start: ${error}`);
    }
  }
  void start();
})();
