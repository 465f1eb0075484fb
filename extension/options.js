// Settings that are rarely changed: which camera to watch, and how quickly music follows a mood.
// Changes go through the service worker, which applies them to the running host.

const form = document.getElementById('options');
const camera = document.getElementById('camera');
const switchAtOnce = document.getElementById('switch-at-once');
const awayAfter = document.getElementById('away-after');
const pauseWhenAway = document.getElementById('pause-when-away');
const cameraOffWhenLocked = document.getElementById('camera-off-when-locked');
const saved = document.getElementById('saved');
const settings = document.getElementById('settings');

// "0" is a device index; anything else is a video file path, as the host's `start` expects.
function cameraSource(text) {
  const trimmed = text.trim();
  return /^\d+$/.test(trimmed) ? Number(trimmed) : trimmed || 0;
}

// The host takes 5 s to an hour; anything else (an emptied field) is the default minute.
function awaySeconds(text) {
  const seconds = Number(text);
  return Number.isFinite(seconds) && seconds >= 5 && seconds <= 3600 ? seconds : 60;
}

async function save() {
  const prefs = {
    camera: cameraSource(camera.value),
    switchAtOnce: switchAtOnce.checked,
    awayAfterS: awaySeconds(awayAfter.value),
    pauseWhenAway: pauseWhenAway.checked,
    cameraOffWhenLocked: cameraOffWhenLocked.checked,
  };
  await chrome.runtime.sendMessage({ action: 'setPrefs', prefs });
  saved.textContent = 'Saved.';
}

const { prefs } = await chrome.storage.local.get('prefs');
camera.value = String(prefs?.camera ?? 0);
switchAtOnce.checked = Boolean(prefs?.switchAtOnce);
awayAfter.value = String(prefs?.awayAfterS ?? 60);
pauseWhenAway.checked = prefs?.pauseWhenAway ?? true;
cameraOffWhenLocked.checked = prefs?.cameraOffWhenLocked ?? true;
settings.disabled = false;
form.addEventListener('change', save);
form.addEventListener('submit', (event) => {
  event.preventDefault();
  save();
});
// Enter in a field saves, as it did with one field: with several, the form is not submitted.
form.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && event.target instanceof HTMLInputElement) {
    event.preventDefault();
    save();
  }
});
