// The service worker: owns the one native port to the moodtune host, the play queue and the
// YouTube Music player tab. The host decides what to play; this worker decides when to move on.
//
// Everything the popup shows lives in chrome.storage: `state` (session storage: connection, mood,
// queue, player) and `prefs` (local storage: language, mode, camera). A restarted worker reads
// both back and carries on; the popup renders whatever is stored and sends actions here.

import {
  advance,
  answerReady,
  freshPlayer,
  HostRestarts,
  markLoadFailed,
  MORE_TRACKS,
  onPlayerReport,
  presence,
  takeTracks,
} from './player_policy.js';
import { loadProfileId } from './profile.js';
import {
  command,
  ERROR_CODE,
  EVENT,
  HOST_FORBIDDEN,
  HOST_NAME,
  HOST_NOT_FOUND,
  PLAYER_COMMAND,
  PLAYER_REPORT,
  POPUP_ACTION,
  SHORTCUT,
} from './protocol.js';

const YTMUSIC_HOME = 'https://music.youtube.com/';
const MOOD_HISTORY = 8;
// While a track loads, the tab is looked at this often. A tab whose page does not answer, or
// has no YouTube Music player, by LOAD_DEADLINE_MS has no working YouTube Music; one with a
// player that has not started the track by START_DEADLINE_MS (a slow connection) neither.
const LOAD_CHECK_MS = 1500;
const LOAD_DEADLINE_MS = 9000;
const START_DEADLINE_MS = 30_000;
const UNREACHABLE = 'The tab could not reach music.youtube.com.';

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
  startHeld: false, // the camera's `start` took the host down; sent again when the listener asks
  player: freshPlayer(), // see player_policy.js
  pausedForAway: false, // this worker paused the music because the listener left
  cameraOffForLock: false, // this worker switched the camera off because the screen locked
  // since: when the calibration in use was made (null: none); progress: 0..1 while collecting;
  // error: the host's last calibration_* error, until the next attempt.
  calibration: { since: null, progress: null, error: null },
};

let state = structuredClone(FRESH_STATE);
let prefs = { ...DEFAULT_PREFS };
let profileId = null; // this Chrome profile's id for the host: see loadProfileId
let port = null;
const restarts = new HostRestarts();
let reconnectTimer = null;
let loadTimer = null;
let pageReadyAt = 0; // when the player tab's page last said it was ready
let retryTimer = null;
let pickedByListener = null; // 'language' or 'mode' just changed in the popup, awaiting its tracks

const restored = (async () => {
  profileId = await loadProfileId();
  const stored = await chrome.storage.session.get('state');
  const storedPrefs = await chrome.storage.local.get('prefs');
  prefs = { ...DEFAULT_PREFS, ...storedPrefs.prefs };
  await savePrefs(); // the popup renders from storage, so a first run must write the defaults
  if (stored.state) {
    // A new worker never has a port: keep the music and mood, redo the connection.
    state = {
      ...FRESH_STATE,
      ...stored.state,
      player: { ...freshPlayer(), ...stored.state.player },
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
  const delay = restarts.disconnected(Date.now());
  reconnectTimer = setTimeout(connect, delay * 1000);
  save();
}

function send(message) {
  if (port) port.postMessage(message);
}

function startCamera() {
  state.startHeld = false;
  // Until a host has said hello, its hello sends `start` (prefs.cameraOn): a host that is not
  // there, or not yet up, cannot have been taken down by it.
  if (state.connection !== 'connected') return;
  restarts.startSent(prefs.camera, Date.now());
  send(command.start(prefs.camera));
}

function onHostMessage(message) {
  if (onCalibrationEvent(message)) return save();
  switch (message.type) {
    case EVENT.HELLO:
      return onHello(message);
    case EVENT.STATUS:
      state.status = message;
      followPresence();
      if (message.state === 'camera') {
        restarts.cameraRunning();
        if (state.error?.code === ERROR_CODE.CAMERA_UNAVAILABLE) state.error = null;
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
  restarts.connected(Date.now());
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
  // Hello comes before the host knows this profile: its `calibrated` answer to set_profile
  // says this profile's calibration, so another profile's is never shown here.
  state.calibration = { since: null, progress: null, error: null };
  send(command.setProfile(profileId));
  if (prefs.language === null || !(prefs.language in hello.languages)) {
    prefs.language = hello.language;
    savePrefs();
  }
  if (prefs.language !== hello.language) send(command.setLanguage(prefs.language));
  if (prefs.mode !== hello.mode) send(command.setMode(prefs.mode));
  send(command.setAway(prefs.awayAfterS));
  // A camera whose `start` took the last host down waits for the listener (the popup says so).
  if (prefs.cameraOn && restarts.mayResendStart(prefs.camera)) startCamera();
  else if (prefs.cameraOn) state.startHeld = true;
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
  const picked = event.reason === pickedByListener;
  if (picked) pickedByListener = null;
  const following = prefs.cameraOn || state.emotion?.source === 'override';
  const playNow = takeTracks(state, event, {
    following,
    switchAtOnce: prefs.switchAtOnce,
    picked,
  });
  if (playNow) playNext();
  else save();
}

// Queue and player

function playNext() {
  if (advance(state) && port) send(command.moreTracks(MORE_TRACKS));
  save();
  if (state.nowPlaying && !state.player.userPaused) playCurrent();
}

async function playCurrent() {
  state.player.state = 'loading';
  save();
  const tabId = await playerTab();
  watchLoad(tabId);
  await tellPlayer(tabId, { type: PLAYER_COMMAND.PLAY, videoId: state.nowPlaying.video_id });
}

// Whether the page in the tab has moodtune's content script running, and YouTube Music's
// player in it; null when nothing answers (an error page, or still loading).
async function askPage(tabId) {
  return chrome.tabs.sendMessage(tabId, { type: PLAYER_COMMAND.STATUS }).catch(() => null);
}

// Until the track plays, pauses, is blocked or fails, the tab is watched: a finished page that
// does not answer (the browser's error page) fails at once, others by the deadlines above.
function watchLoad(tabId) {
  clearTimeout(loadTimer);
  const since = Date.now();
  const check = async () => {
    if (state.player.state !== 'loading' || state.player.tabId !== tabId) return;
    const page = (await askPage(tabId)) ?? (pageReadyAt >= since ? { player: false } : null);
    const tab = await chrome.tabs.get(tabId).catch(() => null);
    if (!tab || state.player.state !== 'loading') return;
    const waited = Date.now() - since;
    if (!page && tab.status === 'complete') {
      loadFailed(UNREACHABLE);
    } else if (waited >= LOAD_DEADLINE_MS && !page?.player) {
      loadFailed(page ? 'The page has no YouTube Music player.' : UNREACHABLE);
    } else if (waited >= START_DEADLINE_MS) {
      loadFailed('The page loaded, but its player did not start the track.');
    } else {
      loadTimer = setTimeout(check, LOAD_CHECK_MS);
    }
  };
  loadTimer = setTimeout(check, LOAD_CHECK_MS);
}

function loadFailed(message) {
  clearTimeout(loadTimer);
  const delayS = markLoadFailed(state, message);
  clearTimeout(retryTimer);
  retryTimer = setTimeout(() => retryPlayer(), delayS * 1000);
  save();
}

// Loads YouTube Music in the player tab again; its page asks for the track when it is ready.
// By itself (not `asked`), a slow load still going is left to finish.
async function retryPlayer(asked = false) {
  clearTimeout(retryTimer);
  if (!state.nowPlaying || state.player.userPaused) return;
  state.player.state = 'loading';
  save();
  const tabId = await playerTab();
  watchLoad(tabId);
  const tab = await chrome.tabs.get(tabId).catch(() => null);
  if (asked || tab?.status !== 'loading') await chrome.tabs.update(tabId, { url: YTMUSIC_HOME });
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
    const answer = await chrome.tabs.sendMessage(tabId, message);
    if (answer?.report) playerReported(answer.report);
  } catch {
    const tab = await chrome.tabs.get(tabId).catch(() => null);
    if (tab?.status === 'complete') await chrome.tabs.update(tabId, { url: YTMUSIC_HOME });
  }
}

function playerReported(report) {
  if (report.player === PLAYER_REPORT.LOAD_FAILED) return loadFailed(report.message);
  const decision = onPlayerReport(state, report);
  decision.send.forEach(send);
  if (decision.skip) return actions[POPUP_ACTION.SKIP]();
  if (decision.next) return playNext();
  followPresence();
  return save();
}

chrome.tabs.onRemoved.addListener(async (tabId) => {
  await restored;
  if (tabId !== state.player.tabId) return;
  // Closing the player tab is how many people stop music: treat it as a pause.
  state.player = { ...state.player, tabId: null, state: 'idle', userPaused: true };
  clearTimeout(loadTimer);
  clearTimeout(retryTimer);
  save();
});

// Away and screen lock: music pauses while nobody is in view (if the listener chose so) and
// resumes when they are back; a locked screen switches the camera off until it is unlocked.

function followPresence() {
  const step = presence(state, prefs.pauseWhenAway);
  if (step === 'pause') tellPlayer(state.player.tabId, { type: PLAYER_COMMAND.PAUSE });
  else if (step === 'resume') playCurrent();
}

chrome.idle.onStateChanged.addListener(async (idleState) => {
  await restored;
  if (idleState === 'locked' && prefs.cameraOn && prefs.cameraOffWhenLocked) {
    state.cameraOffForLock = true;
    send(command.pause());
  } else if (idleState === 'active' && state.cameraOffForLock) {
    state.cameraOffForLock = false;
    if (prefs.cameraOn) startCamera();
  }
  save();
});

// Popup and options actions

const actions = {
  async [POPUP_ACTION.SET_PREFS]({ prefs: changes }) {
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
      restarts.listenerAskedForCamera();
      if (prefs.cameraOn) startCamera();
      else send(command.pause());
    }
  },
  [POPUP_ACTION.RESTART_CAMERA]() {
    prefs.cameraOn = true;
    savePrefs();
    restarts.listenerAskedForCamera();
    startCamera();
  },
  [POPUP_ACTION.OVERRIDE_MOOD]({ emotion }) {
    send(command.overrideMood(emotion));
  },
  async [POPUP_ACTION.TOGGLE_PLAY]() {
    const { player } = state;
    if (player.state === 'blocked') {
      await actions[POPUP_ACTION.SHOW_PLAYER](); // only a click in the tab itself lets it play
    } else if (player.state === 'playing' || player.state === 'ad') {
      player.userPaused = true;
      await tellPlayer(player.tabId, { type: PLAYER_COMMAND.PAUSE });
    } else if (state.nowPlaying) {
      player.userPaused = false;
      await playCurrent();
    } else {
      player.userPaused = false;
      playNext();
    }
    save();
  },
  [POPUP_ACTION.SKIP]() {
    if (state.nowPlaying) send(command.feedback(state.nowPlaying.video_id, false));
    state.player.userPaused = false;
    if (state.player.state === 'listener') state.player.state = 'idle';
    playNext();
  },
  [POPUP_ACTION.LIKE]() {
    if (!state.nowPlaying) return;
    state.nowPlaying = { ...state.nowPlaying, liked: true };
    send(command.feedback(state.nowPlaying.video_id, true));
    save();
  },
  async [POPUP_ACTION.SHOW_PLAYER]() {
    const tabId = await playerTab();
    const tab = await chrome.tabs.update(tabId, { active: true });
    await chrome.windows.update(tab.windowId, { focused: true });
  },
  [POPUP_ACTION.RECONNECT]() {
    restarts.reset();
    connect();
  },
  [POPUP_ACTION.WAKE]() {
    // Nothing to do: receiving the message started the worker, which connects on start.
  },
  async [POPUP_ACTION.RETRY_PLAYER]() {
    await retryPlayer(true);
  },
  // The listener hands the tab back: moodtune's current track plays again.
  async [POPUP_ACTION.RESUME_MOODTUNE]() {
    const { player } = state;
    player.state = 'idle';
    player.userPaused = false;
    player.listenerTrack = null;
    if (state.nowPlaying) await playCurrent();
    else playNext();
  },
  ...calibrationActions,
};

chrome.commands.onCommand.addListener(async (shortcut) => {
  await restored;
  if (shortcut === SHORTCUT.SKIP) actions[POPUP_ACTION.SKIP]();
  else if (shortcut === SHORTCUT.LIKE) actions[POPUP_ACTION.LIKE]();
  else if (shortcut === SHORTCUT.TOGGLE_CAMERA) {
    await actions[POPUP_ACTION.SET_PREFS]({ prefs: { cameraOn: !prefs.cameraOn } });
  }
});

chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  if (Object.hasOwn(actions, message.action)) {
    restored.then(() => actions[message.action](message)).then(() => sendResponse({ ok: true }));
    return true;
  }
  if (message.player && sender.tab) {
    restored.then(() => {
      // Only the tab this worker opened is driven; the listener's own tabs are left alone.
      const isPlayer = sender.tab.id === state.player.tabId;
      if (message.player === PLAYER_REPORT.READY) {
        if (isPlayer) pageReadyAt = Date.now();
        sendResponse(answerReady(state, message, isPlayer));
        if (isPlayer) save();
      } else {
        if (isPlayer) playerReported(message);
        sendResponse({ ok: true });
      }
    });
    return true;
  }
  return false;
});

restored.then(connect);
