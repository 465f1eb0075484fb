// Settings that are rarely changed: which camera to watch, and how quickly music follows a mood.
// Changes go through the service worker, which applies them to the running host.

import { POPUP_ACTION } from './protocol.js';

const form = document.getElementById('options');
const camera = document.getElementById('camera');
const switchAtOnce = document.getElementById('switch-at-once');
const saved = document.getElementById('saved');
const settings = document.getElementById('settings');

// "0" is a device index; anything else is a video file path, as the host's `start` expects.
function cameraSource(text) {
  const trimmed = text.trim();
  return /^\d+$/.test(trimmed) ? Number(trimmed) : trimmed || 0;
}

async function save() {
  const prefs = { camera: cameraSource(camera.value), switchAtOnce: switchAtOnce.checked };
  await chrome.runtime.sendMessage({ action: POPUP_ACTION.SET_PREFS, prefs });
  saved.textContent = 'Saved.';
}

const { prefs } = await chrome.storage.local.get('prefs');
camera.value = String(prefs?.camera ?? 0);
switchAtOnce.checked = Boolean(prefs?.switchAtOnce);
settings.disabled = false;
form.addEventListener('change', save);
form.addEventListener('submit', (event) => {
  event.preventDefault();
  save();
});
