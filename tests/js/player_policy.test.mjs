// The service worker's queue, player and restart rules (extension/player_policy.js), without a
// browser: `node --test tests/js/`.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { PLAYER_REPORT } from '../../extension/protocol.js';
import {
  advance,
  answerReady,
  freshPlayer,
  HostRestarts,
  LOAD_RETRY_DELAYS_S,
  LOW_QUEUE,
  markLoadFailed,
  onPlayerReport,
  presence,
  takeTracks,
} from '../../extension/player_policy.js';

const track = (id) => ({ video_id: id, title: `Title ${id}`, artists: ['Someone'] });

function workerState(changes = {}) {
  return {
    error: null,
    nowPlaying: null,
    queue: [],
    queueFor: null,
    moreRequested: false,
    player: freshPlayer(),
    ...changes,
  };
}

function tracksEvent(ids, changes = {}) {
  return {
    emotion: 'happy',
    mode: 'match',
    language: 'en',
    reason: 'mood',
    tracks: ids.map(track),
    ...changes,
  };
}

const options = { following: true, switchAtOnce: false, picked: false };

describe('tracks from the host', () => {
  test('start the music from silence while moodtune follows a mood', () => {
    const state = workerState();
    assert.equal(takeTracks(state, tracksEvent(['a', 'b']), options), true);
    assert.deepEqual(state.queue.map((t) => t.video_id), ['a', 'b']);
  });

  test('wait in silence while nobody asked for music', () => {
    const state = workerState();
    assert.equal(takeTracks(state, tracksEvent(['a']), { ...options, following: false }), false);
    assert.equal(state.queue.length, 1);
  });

  test('a new mood waits for the current track unless the listener wants it at once', () => {
    const playing = () => workerState({ nowPlaying: track('now') });
    assert.equal(takeTracks(playing(), tracksEvent(['a']), options), false);
    assert.equal(takeTracks(playing(), tracksEvent(['a']), { ...options, switchAtOnce: true }), true);
  });

  test('a language or mode the listener picked is heard at once', () => {
    const state = workerState({ nowPlaying: track('now') });
    const event = tracksEvent(['a'], { reason: 'language' });
    assert.equal(takeTracks(state, event, { ...options, picked: true }), true);
  });

  test('nothing starts while the listener paused or plays their own music', () => {
    const paused = workerState({ nowPlaying: track('now') });
    paused.player.userPaused = true;
    assert.equal(takeTracks(paused, tracksEvent(['a'], { reason: 'language' }), { ...options, picked: true }), false);
    const choosing = workerState();
    choosing.player.state = 'listener';
    assert.equal(takeTracks(choosing, tracksEvent(['a']), options), false);
  });

  test('more tracks are added after the queue, without repeats or the current track', () => {
    const state = workerState({ nowPlaying: track('now'), queue: [track('a')] });
    state.queueFor = { emotion: 'happy', mode: 'match', language: 'en' };
    takeTracks(state, tracksEvent(['a', 'now', 'b'], { reason: 'more' }), options);
    assert.deepEqual(state.queue.map((t) => t.video_id), ['a', 'b']);
  });

  test('the same choice again keeps the queue as it is', () => {
    const state = workerState({ queue: [track('a'), track('b')] });
    state.queueFor = { emotion: 'happy', mode: 'match', language: 'en' };
    takeTracks(state, tracksEvent(['x', 'y']), options);
    assert.deepEqual(state.queue.map((t) => t.video_id), ['a', 'b']);
    takeTracks(state, tracksEvent(['s'], { emotion: 'sad' }), options);
    assert.deepEqual(state.queue.map((t) => t.video_id), ['s']);
  });

  test('tracks clear a passing error but not a camera error', () => {
    const state = workerState({ error: { code: 'music_unavailable' } });
    takeTracks(state, tracksEvent(['a']), options);
    assert.equal(state.error, null);
    const camera = workerState({ error: { code: 'camera_unavailable' } });
    takeTracks(camera, tracksEvent(['a']), options);
    assert.equal(camera.error.code, 'camera_unavailable');
  });
});

describe('the queue', () => {
  test('moving on asks the host for more once, when the queue runs low', () => {
    const ids = Array.from({ length: LOW_QUEUE + 1 }, (_, index) => `t${index}`);
    const state = workerState({ queue: ids.map(track) });
    assert.equal(advance(state), false);
    assert.equal(state.nowPlaying.video_id, 't0');
    assert.equal(advance(state), true);
    assert.equal(advance(state), false); // already asked
    assert.equal(state.nowPlaying.video_id, 't2');
  });
});

describe('reports from the player tab', () => {
  const playingState = () => workerState({ nowPlaying: track('now'), queue: [track('next')] });
  const report = (player, videoId = 'now', changes = {}) => ({ player, videoId, wanted: 'now', ...changes });

  test('the track playing is recorded as played once, not again on resume', () => {
    const state = playingState();
    assert.deepEqual(onPlayerReport(state, report(PLAYER_REPORT.PLAYING)).send, [
      { type: 'played', video_id: 'now' },
    ]);
    assert.equal(state.player.state, 'playing');
    onPlayerReport(state, report(PLAYER_REPORT.PAUSED));
    assert.equal(state.player.userPaused, true);
    assert.deepEqual(onPlayerReport(state, report(PLAYER_REPORT.PLAYING)).send, []);
    assert.equal(state.player.userPaused, false);
  });

  test('an ad is shown as an ad, never counted as played or ended', () => {
    const state = playingState();
    state.player.state = 'loading';
    const decision = onPlayerReport(state, report(PLAYER_REPORT.AD));
    assert.equal(state.player.state, 'ad');
    assert.deepEqual(decision, { send: [], next: false, skip: false });
    assert.equal(state.player.playedVideoId, null);
  });

  test('the end of the current track plays the next one', () => {
    assert.equal(onPlayerReport(playingState(), report(PLAYER_REPORT.ENDED)).next, true);
    assert.equal(onPlayerReport(playingState(), report(PLAYER_REPORT.ENDED, 'old', { wanted: 'old' })).next, false);
  });

  test('a report about a track the worker has moved on from changes nothing', () => {
    const state = playingState();
    state.player.state = 'loading';
    onPlayerReport(state, report(PLAYER_REPORT.PLAYING, 'old', { wanted: 'old' }));
    onPlayerReport(state, report(PLAYER_REPORT.PAUSED, 'old', { wanted: 'old' }));
    assert.equal(state.player.state, 'loading');
    assert.equal(state.player.userPaused, false);
  });

  test("the listener's own track stops moodtune driving until they hand it back", () => {
    const state = playingState();
    onPlayerReport(state, report(PLAYER_REPORT.PLAYING, 'theirs', { title: 'Their song' }));
    assert.equal(state.player.state, 'listener');
    assert.equal(state.player.listenerTrack.title, 'Their song');
    assert.equal(state.nowPlaying.video_id, 'now'); // moodtune's track and queue are kept
    assert.equal(onPlayerReport(state, report(PLAYER_REPORT.ENDED)).next, false);
    assert.equal(onPlayerReport(state, report(PLAYER_REPORT.NEXT_TRACK)).skip, false);
    onPlayerReport(state, report(PLAYER_REPORT.PAUSED, 'theirs'));
    assert.equal(state.player.state, 'listener');
  });

  test('an unplayable track is skipped at once and reported to the host', () => {
    const decision = onPlayerReport(playingState(), report(PLAYER_REPORT.ERROR));
    assert.equal(decision.next, true);
    assert.deepEqual(decision.send, [{ type: 'unplayable', video_id: 'now' }]);
  });

  test("the media keys' next track is a skip in moodtune's queue", () => {
    assert.equal(onPlayerReport(playingState(), report(PLAYER_REPORT.NEXT_TRACK)).skip, true);
  });

  test('"Continue watching?" is counted, and is not a pause', () => {
    const state = playingState();
    onPlayerReport(state, report(PLAYER_REPORT.PLAYING));
    onPlayerReport(state, report(PLAYER_REPORT.YOU_THERE));
    onPlayerReport(state, report(PLAYER_REPORT.YOU_THERE));
    assert.equal(state.player.youThereCount, 2);
    assert.equal(state.player.state, 'playing');
    assert.equal(state.player.userPaused, false);
  });
});

describe('a tab without working YouTube Music', () => {
  test('is loaded again later and later, keeping the queue', () => {
    const state = workerState({ nowPlaying: track('now'), queue: [track('next')] });
    const delays = LOAD_RETRY_DELAYS_S.map(() => markLoadFailed(state, 'offline'));
    assert.deepEqual(delays, LOAD_RETRY_DELAYS_S);
    assert.equal(markLoadFailed(state, 'offline'), LOAD_RETRY_DELAYS_S.at(-1));
    assert.equal(state.player.state, 'load_failed');
    assert.equal(state.player.failure.message, 'offline');
    assert.deepEqual(state.queue.map((t) => t.video_id), ['next']);
  });

  test('is told the track once its page is ready, and then plays it', () => {
    const state = workerState({ nowPlaying: track('now') });
    markLoadFailed(state, 'offline');
    assert.deepEqual(answerReady(state, { pageVideoId: null }, true), { isPlayer: true, videoId: 'now' });
    assert.equal(state.player.state, 'loading');
    onPlayerReport(state, { player: PLAYER_REPORT.PLAYING, videoId: 'now', wanted: 'now' });
    assert.equal(state.player.failure, null);
  });
});

describe('a page that says it is ready', () => {
  test("a song page the listener opened is theirs: moodtune does not replace it", () => {
    const state = workerState({ nowPlaying: track('now') });
    const reply = answerReady(state, { pageVideoId: 'theirs', openedByMoodtune: false }, true);
    assert.deepEqual(reply, { isPlayer: true, videoId: null });
    assert.equal(state.player.state, 'listener');
  });

  test('a page moodtune opened gets its track; other tabs get nothing', () => {
    const state = workerState({ nowPlaying: track('now') });
    const ours = answerReady(state, { pageVideoId: 'now', openedByMoodtune: true }, true);
    assert.equal(ours.videoId, 'now');
    assert.deepEqual(answerReady(state, { pageVideoId: null }, false), { isPlayer: false, videoId: null });
  });

  test('music the listener paused stays paused', () => {
    const state = workerState({ nowPlaying: track('now') });
    state.player.userPaused = true;
    assert.equal(answerReady(state, { pageVideoId: null }, true).videoId, null);
  });
});

describe('restarting the host', () => {
  test('a host that says hello and dies is restarted later each time', () => {
    const restarts = new HostRestarts({ delaysS: [1, 2, 4], stableMs: 60_000 });
    const delays = [];
    for (let second = 0; second < 5; second += 1) {
      restarts.connected(second * 1000);
      delays.push(restarts.disconnected(second * 1000 + 500));
    }
    assert.deepEqual(delays, [1, 2, 4, 4, 4]);
  });

  test('a host that stayed up a while is restarted at once again', () => {
    const restarts = new HostRestarts({ delaysS: [1, 2, 4], stableMs: 60_000 });
    restarts.connected(0);
    restarts.disconnected(100);
    restarts.connected(2_000);
    assert.equal(restarts.disconnected(70_000), 1);
  });

  test('"Reconnect now" starts the delays over', () => {
    const restarts = new HostRestarts({ delaysS: [1, 2, 4] });
    restarts.disconnected(0);
    restarts.disconnected(10);
    restarts.reset();
    assert.equal(restarts.disconnected(20), 1);
  });

  test('a start that took the host down is not sent again until the listener asks', () => {
    const restarts = new HostRestarts({ startWindowMs: 10_000 });
    restarts.connected(0);
    restarts.startSent('²', 100);
    restarts.disconnected(400);
    assert.equal(restarts.mayResendStart('²'), false);
    assert.equal(restarts.mayResendStart(0), true);
    restarts.listenerAskedForCamera();
    assert.equal(restarts.mayResendStart('²'), true);
  });

  test('a camera that ran is started again after an unrelated stop', () => {
    const restarts = new HostRestarts({ startWindowMs: 10_000 });
    restarts.connected(0);
    restarts.startSent(0, 100);
    restarts.cameraRunning();
    restarts.disconnected(500);
    assert.equal(restarts.mayResendStart(0), true);
    restarts.startSent(0, 1_000);
    restarts.disconnected(30_000); // long after the start
    assert.equal(restarts.mayResendStart(0), true);
  });
});

describe('leaving the desk', () => {
  const awayState = (playerState) => {
    const state = workerState({ nowPlaying: track('now'), status: { state: 'away' }, pausedForAway: false });
    state.player.state = playerState;
    return state;
  };

  test('the music pauses when the listener leaves, and plays on when they are back', () => {
    const state = awayState('playing');
    assert.equal(presence(state, true), 'pause');
    state.player.state = 'paused';
    state.player.userPaused = true;
    assert.equal(presence(state, true), null);
    state.status = { state: 'camera' };
    assert.equal(presence(state, true), 'resume');
    assert.equal(state.player.userPaused, false);
    assert.equal(state.pausedForAway, false);
  });

  test('a track that starts while the listener is away is paused as soon as it plays', () => {
    const state = awayState('loading');
    assert.equal(presence(state, true), null);
    onPlayerReport(state, { player: PLAYER_REPORT.PLAYING, videoId: 'now', wanted: 'now' });
    assert.equal(presence(state, true), 'pause');
    assert.equal(state.pausedForAway, true);
  });

  test('music the listener paused is not started when they come back', () => {
    const state = awayState('paused');
    state.player.userPaused = true;
    assert.equal(presence(state, true), null);
    state.status = { state: 'camera' };
    assert.equal(presence(state, true), null);
    assert.equal(state.player.userPaused, true);
  });

  test('with "pause when I leave" off, the music plays on', () => {
    assert.equal(presence(awayState('playing'), false), null);
  });
});
