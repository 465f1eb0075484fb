// The service worker's rules for the queue, the player tab and restarting the host, as plain
// functions on the worker's state: no chrome.* calls, so `node --test` reaches them. The worker
// (background.js) does what they decide: it sends, saves, opens tabs and sets timers.

import { command, ERROR_CODE, PLAYER_REPORT } from './protocol.js';

export const LOW_QUEUE = 3; // ask the host for more tracks when fewer than this are left
export const MORE_TRACKS = 10;
// Errors that stay until the camera runs (camera) or a new host starts (model); any other
// clears when the next tracks arrive.
export const LASTING_ERRORS = new Set([ERROR_CODE.CAMERA_UNAVAILABLE, ERROR_CODE.MODEL_MISSING]);
// After a failed load of YouTube Music, the tab is loaded again after these many seconds.
export const LOAD_RETRY_DELAYS_S = [5, 10, 20, 40, 60];

// player.state: idle | loading | playing | paused | blocked | ad | listener | load_failed
export function freshPlayer() {
  return {
    tabId: null,
    state: 'idle',
    userPaused: false,
    // The track already reported to the host as played, so a resume is not counted twice.
    playedVideoId: null,
    listenerTrack: null, // what the listener plays in the tab while they choose
    failure: null, // {message, attempts} while YouTube Music does not load
    youThereCount: 0, // "Continue watching?" pauses dismissed
  };
}

// The host's tracks go into the queue. True when the next track should start now.
//   following: moodtune follows a mood (camera on, or a mood set by hand)
//   switchAtOnce: the listener wants a new mood heard at once, not after the current track
//   picked: these tracks answer a language or mode the listener just picked
export function takeTracks(state, event, { following, switchAtOnce, picked }) {
  state.moreRequested = false;
  // Tracks show that whatever went wrong with music or a request has passed.
  if (state.error && !LASTING_ERRORS.has(state.error.code)) state.error = null;
  const fresh = event.tracks.filter((track) => track.video_id !== state.nowPlaying?.video_id);
  const choice = { emotion: event.emotion, mode: event.mode, language: event.language };
  const sameChoice = Object.keys(choice).every((key) => state.queueFor?.[key] === choice[key]);
  if (event.reason === 'more') {
    const queued = new Set(state.queue.map((track) => track.video_id));
    state.queue = [...state.queue, ...fresh.filter((track) => !queued.has(track.video_id))];
  } else if (!sameChoice || state.queue.length === 0) {
    // A queue already chosen for this mood, language and mode stays as it is: these are
    // then a reconnected host's first tracks, or the mood came back to what it was.
    state.queue = fresh;
  }
  state.queueFor = choice;
  const { userPaused, state: playerState } = state.player;
  if (userPaused || playerState === 'listener') return false;
  // A new mood waits for the current track to end unless the listener asked otherwise; a
  // language or mode they just picked is heard at once. From silence, music starts by itself
  // only while moodtune follows a mood, or when the queue ran dry mid-play and these are the
  // tracks asked for then.
  if (state.nowPlaying) return picked || (event.reason === 'mood' && switchAtOnce);
  return following || event.reason === 'more';
}

// The next track off the queue becomes the current one. True when the host should be asked
// for more tracks (the worker then sends `moreTracks(MORE_TRACKS)`).
export function advance(state) {
  state.nowPlaying = state.queue.shift() ?? null;
  state.player.playedVideoId = null;
  state.player.listenerTrack = null;
  if (state.queue.length >= LOW_QUEUE || state.moreRequested) return false;
  state.moreRequested = true;
  return true;
}

// Away: the music pauses while the host says nobody is in view (if the listener chose so) and
// plays on when they are back. Asked on every status and every player report, because the
// host says `away` once and the tab may be between two tracks then, starting the next one
// a moment later. Returns 'pause', 'resume' or null.
export function presence(state, pauseWhenAway) {
  const away = state.status?.state === 'away';
  const { player } = state;
  if (away && pauseWhenAway && (player.state === 'playing' || player.state === 'ad')) {
    state.pausedForAway = true;
    return 'pause';
  }
  if (!away && state.pausedForAway) {
    state.pausedForAway = false;
    if (state.status?.state === 'camera' && state.nowPlaying) {
      player.userPaused = false;
      return 'resume';
    }
  }
  return null;
}

// A report from the player tab. Returns what the worker does next:
//   send: commands for the host; next: play the next track; skip: the listener skipped.
export function onPlayerReport(state, report) {
  const current = state.nowPlaying?.video_id;
  const { player } = state;
  const decision = { send: [], next: false, skip: false };
  switch (report.player) {
    case PLAYER_REPORT.PLAYING:
      // Sent for a track the worker has moved on from since: nothing to do.
      if (report.wanted && report.wanted !== current) break;
      if (report.videoId !== current) {
        // The listener plays something of their own: moodtune stops driving the tab until
        // they hand it back ("Resume moodtune"); their track is shown, the queue is kept.
        player.state = 'listener';
        player.listenerTrack = {
          video_id: report.videoId,
          title: report.title,
          artists: report.artist ? [report.artist] : [],
          thumbnail: report.artwork,
        };
        break;
      }
      if (player.playedVideoId !== report.videoId) {
        player.playedVideoId = report.videoId;
        decision.send.push(command.played(report.videoId));
      }
      player.state = 'playing';
      player.userPaused = false;
      player.listenerTrack = null;
      player.failure = null;
      break;
    case PLAYER_REPORT.AD:
      if (player.state !== 'listener' && report.videoId === current) player.state = 'ad';
      break;
    case PLAYER_REPORT.PAUSED:
      if (player.state === 'listener' || report.videoId !== current) break;
      player.state = 'paused';
      player.userPaused = true;
      break;
    case PLAYER_REPORT.BLOCKED:
      player.state = 'blocked'; // autoplay refused until the listener clicks in the tab
      break;
    case PLAYER_REPORT.YOU_THERE:
      player.youThereCount += 1;
      break;
    case PLAYER_REPORT.LOAD_FAILED:
      markLoadFailed(state, report.message);
      break;
    case PLAYER_REPORT.ENDED:
      decision.next = report.videoId === current && player.state !== 'listener';
      break;
    case PLAYER_REPORT.ERROR:
      // Skipped at once, and the host stops offering it.
      if (report.videoId === current && player.state !== 'listener') {
        decision.next = true;
        decision.send.push(command.unplayable(report.videoId));
      }
      break;
    case PLAYER_REPORT.NEXT_TRACK:
      decision.skip = player.state !== 'listener'; // the media keys drive moodtune's queue
      break;
    default:
      break;
  }
  return decision;
}

// The tab has no working YouTube Music. The queue and the current track are kept; the track is
// not shown as playing. Returns the seconds until the tab is loaded again.
export function markLoadFailed(state, message) {
  const { player } = state;
  const attempts = (player.failure?.attempts ?? 0) + 1;
  player.state = 'load_failed';
  player.failure = { message, attempts };
  return LOAD_RETRY_DELAYS_S[Math.min(attempts - 1, LOAD_RETRY_DELAYS_S.length - 1)];
}

// What the tab's content script is told when its page is ready: the track to play, or none
// when the listener paused the music or opened a page of their own in the tab.
export function answerReady(state, report, isPlayer) {
  if (!isPlayer) return { isPlayer, videoId: null };
  const { player, nowPlaying } = state;
  const wanted = nowPlaying?.video_id ?? null;
  const theirs =
    report.pageVideoId && report.pageVideoId !== wanted && !report.openedByMoodtune;
  if (theirs) {
    player.state = 'listener';
    return { isPlayer, videoId: null };
  }
  if (player.state === 'listener') return { isPlayer, videoId: null };
  if (player.userPaused || !wanted) return { isPlayer, videoId: null };
  if (player.state === 'load_failed') player.state = 'loading';
  return { isPlayer, videoId: wanted };
}

// When to restart the host after it stopped, and whether to send `start` again.
//
// The delay grows with every stop in a row; the count starts over only once a host has stayed
// up for `stableMs`, so a host that says hello and then dies is not restarted every second.
// A host that stops within `startWindowMs` of a `start`, before its camera ran, is not sent the
// same `start` again: the listener asks for it (camera switch, "Try again", another camera).
export class HostRestarts {
  constructor({ delaysS = [1, 2, 4, 8, 15, 30], stableMs = 60_000, startWindowMs = 10_000 } = {}) {
    this.delaysS = delaysS;
    this.stableMs = stableMs;
    this.startWindowMs = startWindowMs;
    this.stopsInARow = 0;
    this.connectedAt = null;
    this.pendingStart = null; // {camera, at}: sent, camera not yet running
    this.heldCamera = undefined; // a camera whose `start` took a host down
  }

  connected(now) {
    this.connectedAt = now;
  }

  startSent(camera, now) {
    this.pendingStart = { camera, at: now };
  }

  cameraRunning() {
    this.pendingStart = null;
  }

  // The listener asked for the camera: any held `start` may be sent again.
  listenerAskedForCamera() {
    this.heldCamera = undefined;
  }

  mayResendStart(camera) {
    return this.heldCamera === undefined || this.heldCamera !== camera;
  }

  // Seconds until the next host is started.
  disconnected(now) {
    if (this.connectedAt !== null && now - this.connectedAt >= this.stableMs) this.stopsInARow = 0;
    const { pendingStart } = this;
    if (pendingStart && now - pendingStart.at <= this.startWindowMs) {
      this.heldCamera = pendingStart.camera;
    }
    this.pendingStart = null;
    this.connectedAt = null;
    const delay = this.delaysS[Math.min(this.stopsInARow, this.delaysS.length - 1)];
    this.stopsInARow += 1;
    return delay;
  }

  // A listener's "Reconnect now": the next stop waits the shortest time again.
  reset() {
    this.stopsInARow = 0;
  }
}
