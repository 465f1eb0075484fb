// The messages inside the extension: popup and options → service worker (`action`), the
// service worker → the YouTube Music tab's content script (`type`), and that content script →
// the service worker (`player`). The host's vocabulary is in protocol.js; these never leave
// the browser. The content script reads this file through a dynamic import.

// Popup and options → service worker: `{action, ...details}`.
export const ACTION = Object.freeze({
  SET_PREFS: 'setPrefs',
  RESTART_CAMERA: 'restartCamera',
  OVERRIDE_MOOD: 'overrideMood',
  TOGGLE_PLAY: 'togglePlay',
  SKIP: 'skip',
  LIKE: 'like',
  SHOW_PLAYER: 'showPlayer',
  RECONNECT: 'reconnect',
  WAKE: 'wake',
  RETRY_PLAYER: 'retryPlayer', // load YouTube Music again after it failed to load
  RESUME_MOODTUNE: 'resumeMoodtune', // the listener hands the tab back to moodtune
});

// Service worker → content script: `{type, ...details}`.
export const PLAYER_COMMAND = Object.freeze({
  PLAY: 'play', // videoId
  PAUSE: 'pause',
  STATUS: 'status', // answered with {player: boolean}: is YouTube Music's player in the page
});

// Content script → service worker: `{player, videoId, ...details}`.
export const PLAYER_REPORT = Object.freeze({
  READY: 'ready', // answered with {isPlayer, videoId}; details: pageVideoId, openedByMoodtune
  PLAYING: 'playing', // whatever plays (the worker tells whose it is); title, artist, artwork
  PAUSED: 'paused', // by the listener
  BLOCKED: 'blocked', // the browser wants a click in the tab before sound
  ENDED: 'ended',
  ERROR: 'error', // this track cannot play here; message
  AD: 'ad', // an ad plays before (or inside) the track
  YOU_THERE: 'you_there', // "Continue watching?" paused the music and was dismissed
  NEXT_TRACK: 'next_track', // the media keys' next-track
  LOAD_FAILED: 'load_failed', // the page has no working YouTube Music player; message
});

// Keyboard shortcuts (manifest `commands`), changeable in chrome://extensions/shortcuts.
export const SHORTCUT = Object.freeze({
  SKIP: 'skip',
  LIKE: 'like',
  CAMERA: 'toggle-camera',
});
