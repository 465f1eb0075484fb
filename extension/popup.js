// The toolbar popup: renders what the service worker keeps in chrome.storage and sends the
// listener's choices back to it as actions. It never talks to the host itself.

import { renderCalibration, wireCalibration } from './calibration.js';
import { EMOTIONS, ERROR_CODE, POPUP_ACTION } from './protocol.js';

const INSTALL_COMMAND = 'pip install -e . && moodtune install';

const UP_NEXT_SHOWN = 3;

const MODE_HINTS = {
  match: 'Music that mirrors how you feel.',
  lift: 'Starts where you are, then lifts you up.',
  calm: 'Eases you toward slower, quieter songs.',
};

// One small drawn face per emotion, so the popup looks the same without an emoji font.
const FACES = {
  happy: { color: '#f7c948', mouth: 'M7.5 13.5q4.5 4.5 9 0' },
  sad: { color: '#7aa7e0', mouth: 'M8 16.5q4-3.5 8 0' },
  angry: { color: '#ee7b6b', mouth: 'M8.5 16h7', brows: 'M6.5 7.5l4 1.5M17.5 7.5l-4 1.5' },
  surprise: { color: '#f6a25e', mouth: 'M12 13.2a2.3 2.8 0 1 0 .01 0z' },
  fear: {
    color: '#b49ae6',
    mouth: 'M7.5 16q1.5-2 3 0t3 0 3 0',
    brows: 'M7 8l3.5-1.2M17 8l-3.5-1.2',
  },
  disgust: { color: '#93c47d', mouth: 'M8 15.5l8 1.5' },
  neutral: { color: '#c3c8d2', mouth: 'M8 15.5h8' },
  none: { color: '#e4e7ed', mouth: 'M9 15.5h6' },
};

const $ = (id) => document.getElementById(id);
const label = (emotion) => emotion.charAt(0).toUpperCase() + emotion.slice(1);

let state = null;
let prefs = null;

function faceSvg(emotion) {
  const face = FACES[emotion] ?? FACES.none;
  const features = [
    `<circle cx="12" cy="12" r="11" fill="${face.color}"/>`,
    '<circle cx="8.5" cy="10" r="1.3"/><circle cx="15.5" cy="10" r="1.3"/>',
    `<path d="${face.mouth}" fill="${emotion === 'surprise' ? '#3b3f4a' : 'none'}"/>`,
    face.brows ? `<path d="${face.brows}" fill="none"/>` : '',
  ];
  return `<svg viewBox="0 0 24 24" fill="#3b3f4a" stroke="#3b3f4a" stroke-width="1.4"
    stroke-linecap="round">${features.join('')}</svg>`;
}

function languageName(code) {
  return state.host?.languages[code] ?? code;
}

function act(action, details = {}) {
  return chrome.runtime.sendMessage({ action, ...details });
}

// Rendering

function render() {
  if (!state || !prefs) return;
  // Without a host, only the way to install it (and any music still playing) matters.
  const hostMissing = state.connection === 'not_installed' || state.connection === 'forbidden';
  $('mood-card').hidden = hostMissing;
  $('settings-card').hidden = hostMissing;
  $('player-card').hidden = hostMissing && !state.nowPlaying;
  renderConnection();
  renderAlert();
  renderMood();
  renderCalibration(state, prefs);
  renderSettings();
  renderPlayer();
}

function renderConnection() {
  const connected = state.connection === 'connected';
  const lost =
    state.connection === 'disconnected' ||
    (state.connection === 'connecting' && state.connectionDetail);
  const words = {
    connected: 'Connected',
    not_installed: 'Host not installed',
    forbidden: 'Host refused',
  };
  let text = words[state.connection] ?? 'Connecting…';
  if (lost) text = 'Disconnected';
  $('connection').dataset.state = connected ? 'connected' : lost ? 'lost' : state.connection;
  $('connection-text').textContent = text;
}

function showAlert({ title, text, command = null, note = null, action = null, link = null }) {
  $('alert').hidden = false;
  $('alert-title').textContent = title;
  $('alert-text').textContent = text;
  $('alert-command-row').hidden = !command;
  if ($('alert-command').textContent !== (command ?? '')) {
    $('alert-command').textContent = command ?? '';
    $('copy-command').textContent = 'Copy';
  }
  $('alert-note').hidden = !note;
  $('alert-note').textContent = note ?? '';
  $('alert-action').hidden = !action;
  if (action) {
    $('alert-action').textContent = action.text;
    $('alert-action').onclick = action.run;
  }
  $('alert-link').hidden = !link;
  if (link) {
    $('alert-link').textContent = link.text;
    $('alert-link').href = link.url;
  }
}

// The one thing most worth knowing right now, if anything is wrong.
function renderAlert() {
  const retry = { text: 'Try again', run: () => act(POPUP_ACTION.RECONNECT) };
  const { connection, error, player } = state;
  if (connection === 'not_installed') {
    return showAlert({
      title: 'Install the moodtune host',
      text: 'moodtune needs its small local helper to read your camera. In a terminal, run:',
      command: INSTALL_COMMAND,
      note: 'Run it in the moodtune folder (the one with pyproject.toml), then try again.',
      action: retry,
    });
  }
  if (connection === 'forbidden') {
    return showAlert({
      title: 'The host does not know this extension',
      text:
        `The installed host does not allow this extension's ID (${chrome.runtime.id}). ` +
        'Run the installer again:',
      note: 'moodtune doctor checks the whole set-up.',
      command: 'moodtune install',
      action: retry,
    });
  }
  if (connection === 'disconnected' || (connection === 'connecting' && state.connectionDetail)) {
    return showAlert({
      title: 'The moodtune host stopped',
      text: 'moodtune starts it again by itself in a few seconds.',
      note: state.connectionDetail,
      action: { text: 'Reconnect now', run: () => act(POPUP_ACTION.RECONNECT) },
    });
  }
  if (error?.code === ERROR_CODE.CAMERA_UNAVAILABLE) {
    return showAlert({
      title: 'Camera unavailable',
      text: `${error.message} Close other apps using it, or plug it in, then try again.`,
      action: { text: 'Try again', run: () => act(POPUP_ACTION.RESTART_CAMERA) },
    });
  }
  if (error?.code === ERROR_CODE.MODEL_MISSING) {
    return showAlert({
      title: 'Emotion model missing',
      text: error.message,
      command: 'moodtune doctor',
    });
  }
  if (error?.code === ERROR_CODE.MUSIC_UNAVAILABLE) {
    return showAlert({
      title: 'YouTube Music is unreachable',
      text: error.message,
      link: error.fallback_url
        ? { text: 'Search YouTube Music instead', url: error.fallback_url }
        : null,
    });
  }
  if (error?.code === ERROR_CODE.UNKNOWN_LANGUAGE) {
    return showAlert({ title: 'Language not available', text: error.message });
  }
  if (player.state === 'blocked') {
    return showAlert({
      title: 'Click once in the YouTube Music tab to allow sound',
      text: 'Your browser lets a site play sound only after a click in it. The music starts then.',
      action: { text: 'Show YouTube Music tab', run: () => act(POPUP_ACTION.SHOW_PLAYER) },
    });
  }
  if (player.state === 'load_failed') {
    return showAlert({
      title: 'YouTube Music did not load',
      text:
        `${player.failure?.message ?? ''} Check your internet connection; moodtune tries ` +
        'again by itself and keeps your queue.',
      action: { text: 'Retry', run: () => act(POPUP_ACTION.RETRY_PLAYER) },
    });
  }
  if (error) {
    return showAlert({ title: 'Something went wrong', text: `${error.message} (${error.code})` });
  }
  $('alert').hidden = true;
}

function renderMood() {
  const { emotion, status } = state;
  const cameraRunning = status?.state === 'camera';
  const mood = emotion?.emotion ?? null;
  $('mood-face').innerHTML = faceSvg(mood);
  $('camera-toggle').checked = prefs.cameraOn;
  $('camera-toggle').disabled = state.connection !== 'connected';

  let title = 'No mood yet';
  let detail = 'The camera is off';
  if (mood) {
    title = label(mood);
    const sure = `${Math.round(emotion.confidence * 100)}% sure`;
    detail = emotion.source === 'override' ? 'Set by you' : sure;
    if (emotion.source !== 'override' && !prefs.cameraOn) detail += ' · camera off';
  } else if (!prefs.cameraOn) {
    detail = 'The camera is off';
  } else if (status?.state === 'error') {
    detail = 'The camera could not start';
  } else if (cameraRunning) {
    title = 'No face in view';
    detail = 'Look toward the camera';
  } else {
    detail = 'Starting the camera…';
  }
  $('mood-label').textContent = title;
  $('mood-detail').textContent = detail;

  $('mood-history').replaceChildren(
    ...state.moodHistory.map(({ emotion: past, timestamp }) => {
      const item = document.createElement('li');
      const time = new Date(timestamp * 1000).toLocaleTimeString([], {
        hour: '2-digit',
        minute: '2-digit',
      });
      item.title = `${label(past)} at ${time}`;
      item.innerHTML = faceSvg(past);
      item.setAttribute('aria-label', item.title);
      return item;
    }),
  );
}

function renderSettings() {
  const connected = state.connection === 'connected';
  const languages = state.host?.languages ?? {};
  const language = $('language');
  if (language.options.length !== Object.keys(languages).length) {
    language.replaceChildren(
      ...Object.entries(languages).map(([code, name]) => new Option(name, code)),
    );
  }
  language.value = prefs.language ?? '';
  language.disabled = !connected;

  const override = $('override');
  if (override.options.length === 1) {
    override.append(...EMOTIONS.map((emotion) => new Option(label(emotion), emotion)));
  }
  override.value = state.emotion?.source === 'override' ? state.emotion.emotion : '';
  override.disabled = !connected;

  for (const radio of document.querySelectorAll('input[name="mode"]')) {
    radio.checked = radio.value === prefs.mode;
  }
  $('mode-hint').textContent = MODE_HINTS[prefs.mode];
}

function artwork(container, url) {
  if (container.dataset.url === (url ?? '')) return; // unchanged: no reload, no flicker
  container.dataset.url = url ?? '';
  container.replaceChildren();
  if (!url) return;
  const image = new Image();
  image.alt = '';
  image.onerror = () => image.remove(); // offline: the coloured placeholder stays
  image.src = url;
  container.append(image);
}

// What the tab does when it is not simply playing moodtune's track, and what to do about it.
function renderPlayerStatus() {
  const { player } = state;
  const status = {
    ad: { text: 'Ad playing — your track is next' },
    listener: {
      text: "You're choosing — moodtune is not changing the music",
      action: { text: 'Resume moodtune', run: () => act(POPUP_ACTION.RESUME_MOODTUNE) },
    },
  }[player.state];
  $('player-status').hidden = !status;
  $('player-status-text').textContent = status?.text ?? '';
  $('player-status-action').hidden = !status?.action;
  if (status?.action) {
    $('player-status-action').textContent = status.action.text;
    $('player-status-action').onclick = status.action.run;
  }
  const times = player.youThereCount === 1 ? 'once' : `${player.youThereCount} times`;
  $('you-there-count').textContent = `"Continue watching?" answered for you: ${times}`;
}

function renderPlayer() {
  const { nowPlaying, queue, player } = state;
  const playing = player.state === 'playing' || player.state === 'ad';
  // Only a track that plays is shown as playing: the listener's own, or moodtune's once the
  // tab has YouTube Music.
  const shown = player.state === 'listener' ? player.listenerTrack : nowPlaying;
  const failed = player.state === 'load_failed';
  $('now-title').textContent = failed ? 'Not playing' : (shown?.title ?? 'Nothing playing yet');
  let artists = 'Music starts when moodtune knows your mood';
  if (failed) artists = `Up first when YouTube Music loads: ${nowPlaying?.title}`;
  else if (shown) artists = shown.artists.join(', ');
  $('now-artists').textContent = artists;
  $('now-reason').textContent = player.state === 'listener' ? 'Picked by you' : (shown?.reason ?? '');
  // Long titles and reasons are cut short on screen; the full text shows on hover.
  for (const id of ['now-title', 'now-artists', 'now-reason']) $(id).title = $(id).textContent;
  artwork($('now-art'), failed ? null : shown?.thumbnail);
  renderPlayerStatus();

  $('play').disabled = !nowPlaying && queue.length === 0;
  $('controls').hidden = $('play').disabled;
  $('play').setAttribute('aria-label', playing ? 'Pause' : 'Play');
  $('play-icon').setAttribute('d', playing ? 'M7 5h3.5v14H7zm6.5 0H17v14h-3.5z' : 'M8 5v14l11-7z');
  $('skip').disabled = !nowPlaying;
  $('like').disabled = !nowPlaying;
  $('like').setAttribute('aria-pressed', String(Boolean(nowPlaying?.liked)));
  $('show-player').hidden = player.tabId === null;
  $('next-heading').hidden = queue.length === 0;
  const { queueFor } = state;
  $('queue-for').textContent = queueFor
    ? `${label(queueFor.emotion)} · ${languageName(queueFor.language)}`
    : '';
  $('next-head').hidden = $('show-player').hidden && $('next-heading').hidden;
  $('up-next').replaceChildren(
    ...queue.slice(0, UP_NEXT_SHOWN).map((track) => {
      const item = document.createElement('li');
      const art = document.createElement('div');
      art.className = 'art small';
      artwork(art, track.thumbnail);
      const words = document.createElement('div');
      const title = document.createElement('p');
      title.className = 'title';
      title.textContent = track.title;
      title.title = track.title;
      const artists = document.createElement('p');
      artists.className = 'muted';
      artists.textContent = track.artists.join(', ');
      words.append(title, artists);
      item.append(art, words);
      return item;
    }),
  );
}

// Wiring

$('camera-toggle').addEventListener('change', (event) => {
  act(POPUP_ACTION.SET_PREFS, { prefs: { cameraOn: event.target.checked } });
});
$('language').addEventListener('change', (event) => {
  act(POPUP_ACTION.SET_PREFS, { prefs: { language: event.target.value } });
});
$('override').addEventListener('change', (event) => {
  act(POPUP_ACTION.OVERRIDE_MOOD, { emotion: event.target.value || null });
});
$('modes').addEventListener('change', (event) => {
  act(POPUP_ACTION.SET_PREFS, { prefs: { mode: event.target.value } });
});
$('play').addEventListener('click', () => act(POPUP_ACTION.TOGGLE_PLAY));
$('skip').addEventListener('click', () => act(POPUP_ACTION.SKIP));
$('like').addEventListener('click', () => act(POPUP_ACTION.LIKE));
$('show-player').addEventListener('click', () => act(POPUP_ACTION.SHOW_PLAYER));
$('open-options').addEventListener('click', () => chrome.runtime.openOptionsPage());
wireCalibration(act);
$('copy-command').addEventListener('click', async () => {
  await navigator.clipboard.writeText($('alert-command').textContent);
  $('copy-command').textContent = 'Copied';
});

chrome.storage.onChanged.addListener((changes) => {
  if (changes.state) state = changes.state.newValue;
  if (changes.prefs) prefs = changes.prefs.newValue;
  if (changes.state || changes.prefs) render();
});

const [stored, storedPrefs] = await Promise.all([
  chrome.storage.session.get('state'),
  chrome.storage.local.get('prefs'),
]);
state = stored.state ?? null;
prefs = storedPrefs.prefs ?? null;
render();
// Chrome stops idle or crashed workers; a message starts it again, and it reconnects the host.
act(POPUP_ACTION.WAKE);
