// The toolbar popup: renders what the service worker keeps in chrome.storage and sends the
// listener's choices back to it as actions. It never talks to the host itself.

import { renderCalibration, wireCalibration } from './calibration.js';
import {
  ACTION_LABELS,
  EMOTIONS,
  MOOD_LOOKS,
  POPUP_ACTION,
  cameraName,
  errorNoticeKey,
  faceSvg,
  notice,
  noticeCleared,
} from './protocol.js';

const UP_NEXT_SHOWN = 3;

const MODE_HINTS = {
  match: 'Music that mirrors how you feel.',
  lift: 'Starts where you are, then lifts you up.',
  calm: 'Eases you toward slower, quieter songs.',
};

const $ = (id) => document.getElementById(id);
const label = (emotion) => MOOD_LOOKS[emotion]?.name ?? emotion;

let state = null;
let prefs = null;

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
    not_installed: 'Not installed',
    forbidden: 'Not allowed',
  };
  let text = words[state.connection] ?? 'Connecting…';
  if (lost) text = 'Disconnected';
  $('connection').dataset.state = connected ? 'connected' : lost ? 'lost' : state.connection;
  $('connection-text').textContent = text;
}

// What each of a notice's actions does here; the popup cannot play the demo's sample video.
const ACTIONS = {
  retry: () => act(hostUnreachable() ? POPUP_ACTION.RECONNECT : POPUP_ACTION.RESTART_CAMERA),
  reconnect: () => act(POPUP_ACTION.RECONNECT),
  open_settings: () => chrome.runtime.openOptionsPage(),
  show_player: () => act(POPUP_ACTION.SHOW_PLAYER),
  retry_player: () => act(POPUP_ACTION.RETRY_PLAYER),
  resume_moodtune: () => act(POPUP_ACTION.RESUME_MOODTUNE),
};

function hostUnreachable() {
  return state.connection !== 'connected';
}

function showAlert(shown, { link = null, note = null } = {}) {
  $('alert').hidden = false;
  $('alert').dataset.notice = shown.key ?? '';
  $('alert-title').textContent = shown.title;
  $('alert-text').textContent = shown.text;
  const { command } = shown;
  $('alert-command-row').hidden = !command;
  if ($('alert-command').textContent !== (command ?? '')) {
    $('alert-command').textContent = command ?? '';
    $('copy-command').textContent = 'Copy';
  }
  $('alert-note').hidden = !note;
  $('alert-note').textContent = note ?? '';
  const actions = shown.actions.filter((action) => action in ACTIONS);
  // Rebuilt only when they change: every storage update renders, and a rebuilt button
  // would lose the keyboard focus of a listener about to press it.
  const signature = JSON.stringify([shown.key, actions, link]);
  if ($('alert-actions').dataset.signature === signature) return;
  $('alert-actions').dataset.signature = signature;
  const controls = actions.map((action, index) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = ACTION_LABELS[action];
    if (index > 0) button.className = 'secondary';
    button.addEventListener('click', ACTIONS[action]);
    return button;
  });
  if (link) {
    const anchor = document.createElement('a');
    anchor.target = '_blank';
    anchor.rel = 'noopener';
    anchor.href = link;
    anchor.textContent = ACTION_LABELS.search_music;
    controls.push(anchor);
  }
  $('alert-actions').replaceChildren(...controls);
}

// What is true now that takes a notice down (see NOTICES[key].clears).
function facts() {
  const camera = state.status?.state;
  return { cameraOff: !prefs.cameraOn, cameraRunning: camera === 'camera' || camera === 'starting' };
}

// The host's last error as a notice, while it is still true.
function errorNotice() {
  const { error } = state;
  if (!error) return null;
  const key = errorNoticeKey(error.code, prefs.camera);
  if (noticeCleared(key, facts())) return null;
  return notice(key, { camera: prefs.camera });
}

// The one thing most worth knowing right now, if anything is wrong.
function renderAlert() {
  const { connection, error, player } = state;
  if (connection === 'not_installed' || connection === 'forbidden') {
    return showAlert(notice(connection));
  }
  if (connection === 'disconnected' || (connection === 'connecting' && state.connectionDetail)) {
    return showAlert(notice('disconnected'));
  }
  if (state.startHeld && prefs.cameraOn) {
    return showAlert(notice('camera_start_held', { camera: prefs.camera }));
  }
  const fromHost = errorNotice();
  if (fromHost) {
    const link = error.code === 'music_unavailable' ? error.fallback_url : null;
    return showAlert(fromHost, { link });
  }
  if (error && !notice(error.code)) {
    // A code newer than this extension: the host's own words are all there is.
    return showAlert(
      { title: 'Something went wrong', text: error.message, actions: [] },
      { note: 'If it keeps happening, update moodtune and reload the extension.' },
    );
  }
  if (player.state === 'blocked') return showAlert(notice('play_blocked'));
  if (player.state === 'load_failed') {
    return showAlert(notice('player_unloaded'), { note: player.failure?.message ?? null });
  }
  $('alert').hidden = true;
  $('alert').dataset.notice = '';
}

function renderMood() {
  const { emotion, status } = state;
  const camera = status?.state;
  const mood = emotion?.emotion ?? null;
  $('mood-face').innerHTML = faceSvg(mood);
  $('camera-toggle').checked = prefs.cameraOn;
  $('camera-toggle').disabled = state.connection !== 'connected';
  $('watching').firstChild.textContent = `Watches ${cameraName(prefs.camera)}${
    typeof prefs.camera === 'string' ? ' (a video file)' : ''
  } · `;

  let title = 'No mood yet';
  let detail = notice('idle').title;
  if (mood) {
    title = label(mood);
    const sure = `${Math.round(emotion.confidence * 100)}% sure`;
    detail = emotion.source === 'override' ? 'Set by you' : sure;
    if (emotion.source !== 'override' && !prefs.cameraOn) detail += ' · camera off';
  } else if (!prefs.cameraOn) {
    // Switched off is a pause to the host; with no mood kept, to the listener it is just off.
    detail = notice('idle').title;
  } else if (camera === 'error') {
    detail = notice('error').title;
  } else if (camera === 'away') {
    ({ title, text: detail } = notice('away'));
  } else if (camera === 'camera') {
    ({ title, text: detail } = notice('no_face'));
  } else {
    detail = notice('starting').title;
  }
  // A face the host cannot read (too dark, washed out) keeps the last mood; say why.
  const unreadable = status?.quality && status.quality !== 'ok' ? notice(status.quality) : null;
  if (unreadable && prefs.cameraOn) detail = unreadable.title;
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
    const byName = Object.entries(languages).sort(([, a], [, b]) => a.localeCompare(b));
    language.replaceChildren(...byName.map(([code, name]) => new Option(name, code)));
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

// Under "Nothing playing yet": what music waits for, unless the alert above says it.
function waitingWords() {
  const mood = state.emotion?.emotion;
  if (!mood) return notice('no_music_yet').text;
  if (!$('alert').hidden) return '';
  if (state.queue.length > 0) return 'Press play to start.';
  return `Finding ${label(mood).toLowerCase()} music…`;
}

// What the tab does when it is not simply playing moodtune's track, and what to do about it.
function renderPlayerStatus() {
  const { player } = state;
  const key = { ad: 'ad_playing', listener: 'listener_choosing' }[player.state];
  const shown = key ? notice(key) : null;
  $('player-status').hidden = !shown;
  $('player-status-text').textContent = shown?.title ?? '';
  $('player-status-text').title = shown?.text ?? '';
  const [action] = shown?.actions ?? [];
  $('player-status-action').hidden = !action;
  if (action) {
    $('player-status-action').textContent = ACTION_LABELS[action];
    $('player-status-action').onclick = ACTIONS[action];
  }
  const times = player.youThereCount === 1 ? 'once' : `${player.youThereCount} times`;
  $('you-there-count').textContent = `"Continue watching?" answered for you: ${times}`;
}

function renderPlayer() {
  const { nowPlaying, queue, player } = state;
  const playing = player.state === 'playing' || player.state === 'ad';
  const waiting = notice('no_music_yet');
  // Only a track that plays is shown as playing: the listener's own, or moodtune's once the
  // tab has YouTube Music.
  const shown = player.state === 'listener' ? player.listenerTrack : nowPlaying;
  const failed = player.state === 'load_failed';
  $('now-title').textContent = failed ? 'Not playing' : (shown?.title ?? waiting.title);
  let artists = waitingWords();
  if (failed) artists = `Up first when YouTube Music loads: ${nowPlaying?.title}`;
  else if (shown) artists = shown.artists.join(', ');
  $('now-artists').textContent = artists;
  $('now-reason').textContent = player.state === 'listener' ? 'Picked by you' : (shown?.reason ?? '');
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
// A switch flips with Enter as well as Space (a checkbox on its own only takes Space).
$('camera-toggle').addEventListener('keydown', (event) => {
  if (event.key !== 'Enter') return;
  event.preventDefault();
  event.target.click();
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
$('change-camera').addEventListener('click', () => chrome.runtime.openOptionsPage());
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
// A change that arrived while the two reads were in flight is newer than what they returned.
state ??= stored.state ?? null;
prefs ??= storedPrefs.prefs ?? null;
render();
// Chrome stops idle or crashed workers; a message starts it again, and it reconnects the host.
act(POPUP_ACTION.WAKE);
