// The popup's "Calibrate to my face" card: offered once, gently, the first time the camera
// runs; then a progress ring while the host collects the resting face, the result, and a reset.
// The service worker keeps `state.calibration` ({since, progress, error}) from the host's events.

import { CALIBRATION_SECONDS, notice } from './protocol.js';

const $ = (id) => document.getElementById(id);
const DAY_MS = 86400 * 1000;

// "calibrated today", "calibrated yesterday", or the date.
export function calibratedWhen(since, now = Date.now()) {
  const made = new Date(since * 1000);
  const today = new Date(now);
  today.setHours(0, 0, 0, 0);
  if (made >= today) return 'Calibrated today';
  if (made >= new Date(today.getTime() - DAY_MS)) return 'Calibrated yesterday';
  return `Calibrated on ${made.toLocaleDateString([], { day: 'numeric', month: 'short' })}`;
}

export function renderCalibration(state, prefs) {
  const calibration = state.calibration ?? { since: null, progress: null, error: null };
  const connected = state.connection === 'connected';
  const cameraRunning = state.status?.state === 'camera';
  const collecting = calibration.progress !== null;
  const offer = !prefs.calibrationOffered && cameraRunning && calibration.since === null;
  // After "Not now" the card goes; the footer keeps a quiet way to calibrate.
  const shown = connected && (collecting || Boolean(calibration.error) ||
    calibration.since !== null || offer);
  $('calibration-card').hidden = !shown;
  $('calibrate-again').hidden = shown || !connected || !cameraRunning;
  if (!shown) return;

  $('calibration-ring').hidden = !collecting;
  const percent = Math.round((calibration.progress ?? 0) * 100);
  $('calibration-arc').setAttribute('stroke-dasharray', `${percent} 100`);
  $('calibration-ring').setAttribute('aria-valuenow', String(percent));

  let title = 'Calibrate to my face';
  let text = 'So your usual face is not read as sad or angry.';
  if (collecting) {
    title = 'Calibrating…';
    text = `Look at the screen as you usually do for ${CALIBRATION_SECONDS} seconds.`;
  } else if (calibration.error) {
    const words = notice(calibration.error.code);
    title = words?.title ?? 'Calibration did not work';
    text = words?.text ?? calibration.error.message;
  } else if (calibration.since !== null) {
    title = calibratedWhen(calibration.since);
    text = 'moodtune knows your usual face. Calibrate again if the light or your glasses change.';
  } else if (offer) {
    text = `So your usual face is not read as sad or angry: look at the screen as you usually ` +
      `do for ${CALIBRATION_SECONDS} seconds.`;
  }
  $('calibration-title').textContent = title;
  $('calibration-text').textContent = text;
  $('calibrate').hidden = collecting;
  $('calibrate').disabled = !cameraRunning;
  $('calibrate').title = cameraRunning ? '' : 'Turn the camera on first';
  $('calibrate').textContent = calibration.error ? 'Try again'
    : calibration.since !== null ? 'Calibrate again' : 'Calibrate to my face';
  $('calibration-later').hidden = !offer || collecting || Boolean(calibration.error);
  $('reset-calibration').hidden = calibration.since === null || collecting;
}

export function wireCalibration(act) {
  $('calibrate').addEventListener('click', () => {
    act('setPrefs', { prefs: { calibrationOffered: true } });
    act('calibrate');
  });
  $('calibrate-again').addEventListener('click', () => act('calibrate'));
  $('calibration-later').addEventListener('click', () => {
    act('setPrefs', { prefs: { calibrationOffered: true } });
  });
  $('reset-calibration').addEventListener('click', () => act('resetCalibration'));
}
