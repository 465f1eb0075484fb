// The message vocabulary between this extension and the moodtune host.
// Mirrors host/protocol.py, which is the source of truth: change both together.

export const HOST_NAME = 'com.moodtune.host';
export const PROTOCOL_VERSION = 1;

export const EMOTIONS = ['angry', 'disgust', 'fear', 'happy', 'neutral', 'sad', 'surprise'];
export const MODES = ['match', 'lift', 'calm'];

// Host → extension, with their fields:
//   hello    protocol, version, model {name, labels, accuracy}, languages {code: name}, modes,
//            language, mode (always the first message)
//   status   state (idle|starting|camera|paused|error), camera, face, detail
//   emotion  emotion (null: no face), confidence, probabilities {label: p}, face, timestamp,
//            source (camera|override); sent on change only
//   tracks   emotion, mode, language, reason (mood|language|mode|more),
//            tracks [{video_id, title, artists, album, duration_s, thumbnail, reason}]
//   error    code, message, fatal, fallback_url
//   pong     id
export const EVENT = Object.freeze({
  HELLO: 'hello',
  STATUS: 'status',
  EMOTION: 'emotion',
  TRACKS: 'tracks',
  ERROR: 'error',
  PONG: 'pong',
});

// The `error` codes the popup turns into a state of its own; others show their message.
export const ERROR_CODE = Object.freeze({
  CAMERA_UNAVAILABLE: 'camera_unavailable',
  MODEL_MISSING: 'model_missing',
  UNKNOWN_LANGUAGE: 'unknown_language',
  MUSIC_UNAVAILABLE: 'music_unavailable',
});

// Extension → host. One builder per command, so a misspelt field fails here, not in the host.
export const command = Object.freeze({
  start: (camera) => ({ type: 'start', camera }),
  stop: () => ({ type: 'stop' }),
  pause: () => ({ type: 'pause' }),
  setLanguage: (language) => ({ type: 'set_language', language }),
  setMode: (mode) => ({ type: 'set_mode', mode }),
  overrideMood: (emotion) => ({ type: 'override_mood', emotion }),
  feedback: (videoId, liked) => ({ type: 'feedback', video_id: videoId, liked }),
  played: (videoId) => ({ type: 'played', video_id: videoId }),
  moreTracks: (count) => ({ type: 'more_tracks', count }),
  unplayable: (videoId) => ({ type: 'unplayable', video_id: videoId }),
  ping: (id) => ({ type: 'ping', id }),
});

// What Chrome reports in runtime.lastError when a native port fails before or while it is open.
export const HOST_NOT_FOUND = 'Specified native messaging host not found.';
export const HOST_FORBIDDEN = 'Access to the specified native messaging host is forbidden.';
