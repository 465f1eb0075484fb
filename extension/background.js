// The service worker: owns the one native port to the moodtune host, the play queue and the
// YouTube Music player tab. The host decides what to play; this worker decides when to move on.
//
// Everything the popup shows lives in chrome.storage: `state` (session storage: connection, mood,
// queue, player) and `prefs` (local storage: language, mode, camera). A restarted worker reads
// both back and carries on; the popup renders whatever is stored and sends actions here.

import {
  command,
  ERROR_CODE,
  EVENT,
  HOST_FORBIDDEN,
  HOST_NAME,
  HOST_NOT_FOUND,
} from './protocol.js';

const YTMUSIC_HOME = 'https://music.youtube.com/';
const RECONNECT_DELAYS_S = [1, 2, 4, 8, 15, 30];
const LOW_QUEUE = 3; // ask the host for more tracks when fewer than this are left
const MORE_TRACKS = 10;
const MOOD_HISTORY = 8;
// Errors that stay until the camera runs (camera) or a new host starts (model); any other
// clears when the next tracks arrive.
const LASTING_ERRORS = new Set([ERROR_CODE.CAMERA_UNAVAILABLE, ERROR_CODE.MODEL_MISSING]);

const DEFAULT_PREFS = {
  language: null, // null until the host's hello says what it defaults to
  mode: 'match',
  cameraOn: false, // the camera stays off until the listener turns it on
  camera: 0, // a device index or a video file path
  switchAtOnce: false, // on a mood change: finish the current track (false) or switch now (true)
  awayAfterS: 60, // the host says `away` after this long without a face
  pauseWhenAway: true, // pause the music while away, resume on return
  cameraOffWhenLocked: true, // the screen locking switches the camera off, unlocking back on
  calibrationOffered: false, // the popup offers calibration once, the first time the camera runs
};

const FRESH_STATE = {
  connection: 'connecting', // connecting | connected | disconnected | not_installed | forbidden
  connectionDetail: null, // Chrome's reason for the last disconnect
  host: null, // {version, model, languages, modes} from hello
  status: null, // the host's last `status` event
  emotion: null, // the host's last `emotion` event
  moodHistory: [], // [{emotion, timestamp}], newest last
  error: null, // the host's last non-fatal `error` event, cleared when it no longer applies
  nowPlaying: null, // a track from the host (plus `liked`)
  queue: [], // tracks up next
  queueFor: null, // {emotion, mode, language} the queue was chosen for
  moreRequested: false,
  // state: idle | loading | playing | paused | blocked | error; playedVideoId: the track
  // already reported to the host as played, so a resume after a pause is not counted twice.
  player: { tabId: null, state: 'idle', userPaused: false, playedVideoId: null },
  pausedForAway: false, // this worker paused the music because the listener left
  cameraOffForLock: false, // this worker switched the camera off because the screen locked
  // since: when the calibration in use was made (null: none); progress: 0..1 while collecting;
  // error: the host's last calibration_* error, until the next attempt.
  calibration: { since: null, progress: null, error: null },
};

let state = structuredClone(FRESH_STATE);
let prefs = { ...DEFAULT_PREFS };
let port = null;
let reconnectAttempt = 0;
let reconnectTimer = null;
let pickedByListener = null; // 'language' or 'mode' just changed in the popup, awaiting its tracks

const restored = (async () => {
  const stored = await chrome.storage.session.get('state');
  const storedPrefs = await chrome.storage.local.get('prefs');
  prefs = { ...DEFAULT_PREFS, ...storedPrefs.prefs };
  await savePrefs(); // the popup renders from storage, so a first run must write the defaults
  if (stored.state) {
    // A new worker never has a port: keep the music and mood, redo the connection.
    state = {
      ...FRESH_STATE,
      ...stored.state,
      connection: 'connecting',
      connectionDetail: null,
    };
  }
})();

function save() {
  return chrome.storage.session.set({ state });
}

function savePrefs() {
  return chrome.storage.local.set({ prefs });
}

// Native port

function connect() {
  clearTimeout(reconnectTimer);
  if (port) return;
  state.connection = 'connecting';
  save();
  port = chrome.runtime.connectNative(HOST_NAME);
  port.onMessage.addListener(onHostMessage);
  port.onDisconnect.addListener(onHostDisconnect);
}

function onHostDisconnect() {
  const reason = chrome.runtime.lastError?.message ?? 'The moodtune host stopped.';
  port = null;
  if (reason.includes(HOST_NOT_FOUND)) state.connection = 'not_installed';
  else if (reason.includes(HOST_FORBIDDEN)) state.connection = 'forbidden';
  else state.connection = 'disconnected';
  state.connectionDetail = reason;
  state.status = null;
  const delay = RECONNECT_DELAYS_S[Math.min(reconnectAttempt, RECONNECT_DELAYS_S.length - 1)];
  reconnectAttempt += 1;
  reconnectTimer = setTimeout(connect, delay * 1000);
  save();
}

function send(message) {
  if (port) port.postMessage(message);
}

function onHostMessage(message) {
  if (onCalibrationEvent(message)) return save();
  switch (message.type) {
    case EVENT.HELLO:
      return onHello(message);
    case EVENT.STATUS:
      state.status = message;
      followPresence(message);
      if (message.state === 'camera' && state.error?.code === ERROR_CODE.CAMERA_UNAVAILABLE) {
        state.error = null;
      }
      return save();
    case EVENT.EMOTION:
      return onEmotion(message);
    case EVENT.TRACKS:
      return onTracks(message);
    case EVENT.ERROR:
      // A fatal error is followed by the host exiting; the disconnect tells the popup the rest.
      state.error = message;
      return save();
    default:
      return undefined; // pong, or an event from a newer host
  }
}

function onHello(hello) {
  reconnectAttempt = 0;
  state.connection = 'connected';
  state.connectionDetail = null;
  state.error = null;
  state.moreRequested = false; // a new host never saw the old request
  state.host = {
    version: hello.version,
    model: hello.model,
    languages: hello.languages,
    modes: hello.modes,
  };
  state.calibration = { since: hello.calibrated_since ?? null, progress: null, error: null };
  if (prefs.language === null || !(prefs.language in hello.languages)) {
    prefs.language = hello.language;
    savePrefs();
  }
  if (prefs.language !== hello.language) send(command.setLanguage(prefs.language));
  if (prefs.mode !== hello.mode) send(command.setMode(prefs.mode));
  send(command.setAway(prefs.awayAfterS));
  if (prefs.cameraOn) send(command.start(prefs.camera));
  save();
}

// Calibration to the listener's face: its events and errors, kept apart from the others.
function onCalibrationEvent(message) {
  const calibration = state.calibration ?? structuredClone(FRESH_STATE.calibration);
  if (message.type === EVENT.CALIBRATION_PROGRESS) {
    state.calibration = { ...calibration, progress: message.progress, error: null };
  } else if (message.type === EVENT.CALIBRATED) {
    state.calibration = { since: message.since, progress: null, error: null };
  } else if (message.type === EVENT.ERROR && message.code.startsWith('calibration_')) {
    state.calibration = { ...calibration, progress: null, error: message };
  } else {
    return false;
  }
  return true;
}

const calibrationActions = {
  calibrate() {
    state.calibration = { ...state.calibration, progress: 0, error: null };
    send(command.calibrate());
    return save();
  },
  resetCalibration() {
    send(command.resetCalibration());
  },
};

function onEmotion(event) {
  state.emotion = event;
  const last = state.moodHistory.at(-1);
  if (event.emotion && last?.emotion !== event.emotion) {
    state.moodHistory = [
      ...state.moodHistory,
      { emotion: event.emotion, timestamp: event.timestamp },
    ].slice(-MOOD_HISTORY);
  }
  save();
}

function onTracks(event) {
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
  // A new mood waits for the current track to end unless the listener asked otherwise; a
  // language or mode they just picked is heard at once. (The same choice re-sent to a
  // reconnected host only refills the queue.)
  const picked = event.reason === pickedByListener;
  if (picked) pickedByListener = null;
  const switchNow = picked || (event.reason === 'mood' && prefs.switchAtOnce);
  const { userPaused } = state.player;
  // From silence, music starts by itself only while moodtune follows a mood, or when the
  // queue ran dry mid-play and these are the tracks asked for then.
  const following =
    prefs.cameraOn || state.emotion?.source === 'override' || event.reason === 'more';
  if (state.nowPlaying ? switchNow && !userPaused : following && !userPaused) {
    playNext();
  } else {
    save();
  }
}

// Queue and player

function playNext() {
  state.nowPlaying = state.queue.shift() ?? null;
  state.player.playedVideoId = null;
  if (state.queue.length < LOW_QUEUE && !state.moreRequested && port) {
    state.moreRequested = true;
    send(command.moreTracks(MORE_TRACKS));
  }
  save();
  if (state.nowPlaying && !state.player.userPaused) playCurrent();
}

async function playCurrent() {
  state.player.state = 'loading';
  save();
  const tabId = await playerTab();
  await tellPlayer(tabId, { type: 'play', videoId: state.nowPlaying.video_id });
}

// The dedicated YouTube Music tab, opened in the background the first time music plays.
async function playerTab() {
  const { tabId } = state.player;
  if (tabId !== null) {
    const tab = await chrome.tabs.get(tabId).catch(() => null);
    if (tab) return tabId;
  }
  const tab = await chrome.tabs.create({ url: YTMUSIC_HOME, active: false });
  state.player.tabId = tab.id;
  save();
  return tab.id;
}

// Sends a command to the player tab's content script. If none is listening yet, the tab is
// still loading and its script will ask for the current track when it is ready; if the tab has
// finished loading without one, the listener navigated away, so the tab goes back to YouTube Music.
async function tellPlayer(tabId, message) {
  try {
    await chrome.tabs.sendMessage(tabId, message);
  } catch {
    const tab = await chrome.tabs.get(tabId).catch(() => null);
    if (tab?.status === 'complete') await chrome.tabs.update(tabId, { url: YTMUSIC_HOME });
  }
}

function onPlayerReport(report) {
  const current = state.nowPlaying?.video_id;
  const { player } = state;
  switch (report.player) {
    case 'playing':
      if (report.videoId !== current) {
        // The listener picked something else in the tab: show it, then carry on from the queue.
        state.nowPlaying = {
          video_id: report.videoId,
          title: report.title,
          artists: report.artist ? [report.artist] : [],
          thumbnail: report.artwork,
          reason: 'picked in YouTube Music',
        };
      }
      if (player.playedVideoId !== report.videoId) {
        player.playedVideoId = report.videoId;
        send(command.played(report.videoId));
      }
      player.state = 'playing';
      player.userPaused = false;
      break;
    case 'paused':
      player.state = 'paused';
      player.userPaused = true;
      break;
    case 'blocked':
      player.state = 'blocked'; // autoplay refused until the listener clicks in the tab
      break;
    case 'ended':
      if (report.videoId === current) return playNext();
      break;
    case 'error':
      if (report.videoId === current) return playNext();
      break;
    default:
      return undefined;
  }
  return save();
}

chrome.tabs.onRemoved.addListener(async (tabId) => {
  await restored;
  if (tabId !== state.player.tabId) return;
  // Closing the player tab is how many people stop music: treat it as a pause.
  state.player = { ...state.player, tabId: null, state: 'idle', userPaused: true };
  save();
});

// Away and screen lock: music pauses while nobody is in view (if the listener chose so) and
// resumes when they are back; a locked screen switches the camera off until it is unlocked.

function followPresence(status) {
  if (status.state === 'away' && prefs.pauseWhenAway && state.player.state === 'playing') {
    state.pausedForAway = true;
    tellPlayer(state.player.tabId, { type: 'pause' });
  } else if (status.state !== 'away' && state.pausedForAway) {
    state.pausedForAway = false;
    if (status.state === 'camera' && state.nowPlaying) {
      state.player.userPaused = false;
      playCurrent();
    }
  }
}

chrome.idle.onStateChanged.addListener(async (idleState) => {
  await restored;
  if (idleState === 'locked' && prefs.cameraOn && prefs.cameraOffWhenLocked) {
    state.cameraOffForLock = true;
    send(command.pause());
  } else if (idleState === 'active' && state.cameraOffForLock) {
    state.cameraOffForLock = false;
    if (prefs.cameraOn) send(command.start(prefs.camera));
  }
  save();
});

// Popup and options actions

const actions = {
  async setPrefs({ prefs: changes }) {
    const before = prefs;
    prefs = { ...prefs, ...changes };
    await savePrefs();
    if (prefs.language !== before.language) {
      pickedByListener = 'language';
      send(command.setLanguage(prefs.language));
    }
    if (prefs.mode !== before.mode) {
      pickedByListener = 'mode';
      send(command.setMode(prefs.mode));
    }
    if (prefs.awayAfterS !== before.awayAfterS) send(command.setAway(prefs.awayAfterS));
    const cameraChanged = prefs.camera !== before.camera && prefs.cameraOn;
    if (prefs.cameraOn !== before.cameraOn || cameraChanged) {
      // Off is a pause, not a stop: the mood and the music carry on without the camera.
      send(prefs.cameraOn ? command.start(prefs.camera) : command.pause());
    }
  },
  restartCamera() {
    prefs.cameraOn = true;
    savePrefs();
    send(command.start(prefs.camera));
  },
  overrideMood({ emotion }) {
    send(command.overrideMood(emotion));
  },
  async togglePlay() {
    const { player } = state;
    if (player.state === 'blocked') {
      await actions.showPlayer(); // only a click in the tab itself lets it play
    } else if (player.state === 'playing') {
      player.userPaused = true;
      await tellPlayer(player.tabId, { type: 'pause' });
    } else if (state.nowPlaying) {
      player.userPaused = false;
      await playCurrent();
    } else {
      player.userPaused = false;
      playNext();
    }
    save();
  },
  skip() {
    if (state.nowPlaying) send(command.feedback(state.nowPlaying.video_id, false));
    state.player.userPaused = false;
    playNext();
  },
  like() {
    if (!state.nowPlaying) return;
    state.nowPlaying = { ...state.nowPlaying, liked: true };
    send(command.feedback(state.nowPlaying.video_id, true));
    save();
  },
  async showPlayer() {
    const tabId = await playerTab();
    const tab = await chrome.tabs.update(tabId, { active: true });
    await chrome.windows.update(tab.windowId, { focused: true });
  },
  reconnect() {
    reconnectAttempt = 0;
    connect();
  },
  wake() {
    // Nothing to do: receiving the message started the worker, which connects on start.
  },
  ...calibrationActions,
};

chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  if (Object.hasOwn(actions, message.action)) {
    restored.then(() => actions[message.action](message)).then(() => sendResponse({ ok: true }));
    return true;
  }
  if (message.player && sender.tab) {
    restored.then(() => {
      // Only the tab this worker opened is driven; the listener's own tabs are left alone.
      const isPlayer = sender.tab.id === state.player.tabId;
      if (message.player === 'ready') {
        // The track to play, unless the listener paused the music.
        const wanted = isPlayer && !state.player.userPaused ? state.nowPlaying?.video_id : null;
        sendResponse({ isPlayer, videoId: wanted ?? null });
      } else {
        if (isPlayer) onPlayerReport(message);
        sendResponse({ ok: true });
      }
    });
    return true;
  }
  return false;
});

restored.then(connect);
