// Everything moodtune knows about YouTube Music's page lives in this folder: this file (the
// isolated content script: what the page shows, its <video>'s events, the bridge to the service
// worker) and ytmusic_page.js (calls into the page's own objects, in the page's world). When
// YouTube Music changes its page, these are the files to fix.
//
// It runs in every YouTube Music tab but drives only the tab the service worker opened for
// moodtune; in the listener's other tabs it asks once and then does nothing.

const PAGE = {
  player: '#movie_player',
  video: 'video.html5-main-video',
  title: 'ytmusic-player-bar .title',
  byline: 'ytmusic-player-bar .byline',
  artwork: 'ytmusic-player-bar img.image',
  adBadge: 'ytmusic-player-bar .advertisement',
  playabilityError: 'ytmusic-player yt-playability-error-supported-renderers',
  youThere: 'ytmusic-you-there-renderer',
};
const AD_CLASSES = ['ad-showing', 'ad-interrupting'];
const TO_PAGE = 'moodtune:to-page';
const FROM_PAGE = 'moodtune:from-page';
// A page that has not built its player by then has no working YouTube Music.
const PLAYER_DEADLINE_MS = 6000;
// A page without a player this long after being asked to play (one that builds it only for a
// watch page) gets the track's own page instead.
const PLAYER_WAIT_MS = 3000;
// How long a track may take to start by itself before moodtune presses play.
const AUTOPLAY_GRACE_MS = 2500;
// A pause is the "Continue watching?" popup's when the popup opens after it, or opened at most
// this long before it (the page may show the popup before its pause takes effect).
const YOU_THERE_PAUSE_MS = 1000;
const PAUSE_SETTLE_MS = 400;
const NEAR_END_S = 1.5;
// Set just before moodtune navigates the tab, so the page it lands on knows who opened it.
const NAVIGATING_KEY = 'moodtune:navigating';

// The message names, shared with the worker (a content script cannot import statically).
let PLAYER_COMMAND;
let PLAYER_REPORT;

let wanted = null; // the videoId the worker asked for
let started = false; // the wanted track itself (not an ad) has played
let trackSource = null; // the <video>'s source while it played that track (an ad has its own)
let endReported = false;
let leaving = false; // navigating to another track: the old page's pause is not the listener's
let nearEnd = false; // the wanted track reached its last moments
let youThereAt = -Infinity; // when the last "Continue watching?" was seen
let graceTimer = null;

// Page world bridge

let requestCount = 0;
let lastAnswer = null;

function onPageMessage(event) {
  const message = JSON.parse(event.detail);
  if ('answer' in message) {
    lastAnswer = message;
  } else if (message.event === 'you_there') {
    youThereAt = performance.now();
    report(PLAYER_REPORT.YOU_THERE);
  } else if (message.event === 'next_track') {
    report(PLAYER_REPORT.NEXT_TRACK);
  }
}

// Asks the page world; null when it does not answer (its script is missing).
function askPage(op, details = {}) {
  requestCount += 1;
  const id = requestCount;
  lastAnswer = null;
  document.dispatchEvent(
    new CustomEvent(TO_PAGE, { detail: JSON.stringify({ op, id, ...details }) }),
  );
  return lastAnswer?.id === id ? lastAnswer.answer : null;
}

// What the page shows

function addressVideoId() {
  return new URLSearchParams(location.search).get('v');
}

function currentVideoId() {
  return askPage('video')?.videoId ?? addressVideoId();
}

function watchUrl(videoId) {
  return `${location.origin}/watch?v=${encodeURIComponent(videoId)}`;
}

function text(selector) {
  return document.querySelector(selector)?.textContent.trim() || null;
}

function nowPlaying() {
  return {
    title: text(PAGE.title),
    // The byline reads "Artist • Album • Year"; the artist comes first.
    artist: text(PAGE.byline)?.split('•')[0].trim() || null,
    artwork: document.querySelector(PAGE.artwork)?.src || null,
  };
}

function adShowing() {
  const player = document.querySelector(PAGE.player);
  if (AD_CLASSES.some((name) => player?.classList.contains(name))) return true;
  return Boolean(document.querySelector(PAGE.adBadge)?.checkVisibility());
}

function playabilityError() {
  const panel = document.querySelector(PAGE.playabilityError);
  return panel?.checkVisibility() ? panel.textContent.trim() || 'This track is unavailable.' : null;
}

function youThereShowing() {
  return Boolean(document.querySelector(PAGE.youThere)?.checkVisibility());
}

function report(player, details = {}) {
  chrome.runtime
    .sendMessage({ player, videoId: currentVideoId(), wanted, ...details })
    .catch(() => {
      // The worker is restarting; it asks again through `ready` when the next page loads.
    });
}

function video() {
  return document.querySelector(PAGE.video);
}

// YouTube Music builds its player after the page loads: wait for the <video> to appear, for
// `timeoutMs` at most (then null).
function videoElement(timeoutMs = Infinity) {
  return new Promise((resolve) => {
    const found = video();
    if (found) return resolve(found);
    const observer = new MutationObserver(() => {
      const element = video();
      if (element) {
        observer.disconnect();
        resolve(element);
      }
    });
    observer.observe(document.documentElement, { childList: true, subtree: true });
    if (timeoutMs !== Infinity) {
      setTimeout(() => {
        observer.disconnect();
        resolve(null);
      }, timeoutMs);
    }
  });
}

function navigateTo(videoId) {
  leaving = true;
  sessionStorage.setItem(NAVIGATING_KEY, videoId);
  location.assign(watchUrl(videoId));
}

// Playing

async function play(videoId) {
  wanted = videoId;
  started = false;
  trackSource = null;
  endReported = false;
  nearEnd = false;
  clearTimeout(graceTimer);
  const element = await videoElement(PLAYER_WAIT_MS);
  if (wanted !== videoId) return; // asked for another track meanwhile
  if (!element) {
    // This page did not build a player; the track's own page does (or reports that it cannot).
    if (addressVideoId() !== videoId) navigateTo(videoId);
    return;
  }
  if (currentVideoId() === videoId) {
    if (!element.paused && !adShowing()) {
      started = true;
      trackSource = element.currentSrc;
      report(PLAYER_REPORT.PLAYING, nowPlaying());
      return;
    }
    if (element.played.length > 0) {
      resume(element); // the listener paused it and now wants it back
      return;
    }
  } else if (!askPage('load', { videoId })?.ok) {
    // No player API in this page: load the track's own page instead.
    navigateTo(videoId);
    return;
  }
  checkStart(element, videoId);
}

// A fresh track starts by itself; step in only if it has not after a while.
function checkStart(element, videoId) {
  const error = playabilityError();
  if (error) {
    report(PLAYER_REPORT.ERROR, { message: error });
    return;
  }
  graceTimer = setTimeout(() => {
    if (leaving || wanted !== videoId || started || adShowing() || !element.paused) return;
    const late = playabilityError();
    if (late) report(PLAYER_REPORT.ERROR, { message: late });
    else resume(element);
  }, AUTOPLAY_GRACE_MS);
}

function resume(element) {
  element.play().catch((error) => {
    // The browser's autoplay policy wants a click in the tab first; the first one plays.
    if (error.name !== 'NotAllowedError') return;
    report(PLAYER_REPORT.BLOCKED);
    const once = () => {
      document.removeEventListener('pointerdown', once, true);
      document.removeEventListener('keydown', once, true);
      if (element.paused) element.play().catch(() => {});
    };
    document.addEventListener('pointerdown', once, true);
    document.addEventListener('keydown', once, true);
  });
}

// True if a video (the track, or an ad before it) was playing and is now paused.
function pause() {
  const element = video();
  if (!element || element.paused || element.ended) return false;
  element.pause();
  return element.paused;
}

// What the <video> does

// Reported whatever plays: the worker tells moodtune's track from the listener's own.
function onPlaying() {
  if (adShowing()) {
    report(PLAYER_REPORT.AD);
    return;
  }
  const videoId = currentVideoId();
  if (wanted && videoId !== wanted && (nearEnd || endReported)) {
    // YouTube Music moved on to a track of its own choosing: ours has ended.
    if (!endReported) {
      endReported = true;
      chrome.runtime
        .sendMessage({ player: PLAYER_REPORT.ENDED, videoId: wanted, wanted })
        .catch(() => {});
    }
    return;
  }
  if (videoId === wanted) {
    started = true;
    trackSource = video()?.currentSrc ?? null;
  }
  report(PLAYER_REPORT.PLAYING, nowPlaying());
}

function onPause(element) {
  if (element.ended || leaving || adShowing()) return;
  // YouTube Music's "Continue watching?" pauses first and shows itself just after: look again
  // once the page has settled.
  const pausedAt = performance.now();
  setTimeout(() => {
    const byPopup = youThereShowing() || youThereAt >= pausedAt - YOU_THERE_PAUSE_MS;
    if (byPopup || !element.paused || element.ended || leaving || adShowing()) return;
    report(PLAYER_REPORT.PAUSED);
  }, PAUSE_SETTLE_MS);
}

function onEnded(element) {
  // An ad's end is not the track's (even one inside the track, whose classes may be gone by
  // now: its source differs); neither is the end of a track moodtune did not start.
  if (adShowing() || !started || endReported || currentVideoId() !== wanted) return;
  if (trackSource && element.currentSrc !== trackSource) return;
  endReported = true;
  report(PLAYER_REPORT.ENDED);
}

function watch(element) {
  element.addEventListener('playing', onPlaying);
  element.addEventListener('pause', () => onPause(element));
  element.addEventListener('ended', () => onEnded(element));
  element.addEventListener('error', () => {
    if (!adShowing() && wanted) report(PLAYER_REPORT.ERROR, { message: element.error?.message });
  });
  element.addEventListener('timeupdate', () => {
    nearEnd ||=
      started && !adShowing() && element.duration - element.currentTime < NEAR_END_S;
  });
  // The player's classes say when an ad starts, before its video plays.
  const player = element.closest(PAGE.player);
  if (player) {
    new MutationObserver(() => {
      if (adShowing() && wanted) report(PLAYER_REPORT.AD);
    }).observe(player, { attributes: true, attributeFilter: ['class'] });
  }
  // A track that cannot play here shows YouTube Music's playability panel.
  new MutationObserver(() => {
    const error = wanted && !started ? playabilityError() : null;
    if (error) {
      clearTimeout(graceTimer);
      report(PLAYER_REPORT.ERROR, { message: error });
    }
  }).observe(document.querySelector('ytmusic-player') ?? document.body, {
    childList: true,
    subtree: true,
    attributes: true,
  });
}

// A page without YouTube Music's player (an error or consent page, or an offline app shell)
// is reported, so the worker can say so and load the tab again later.
function expectPlayer() {
  setTimeout(() => {
    if (video()) return;
    const why = navigator.onLine
      ? 'The page has no YouTube Music player.'
      : 'The browser is offline.';
    report(PLAYER_REPORT.LOAD_FAILED, { message: why });
  }, PLAYER_DEADLINE_MS);
}

async function start() {
  ({ PLAYER_COMMAND, PLAYER_REPORT } = await import(chrome.runtime.getURL('protocol.js')));
  document.addEventListener(FROM_PAGE, onPageMessage);
  const openedByMoodtune = sessionStorage.getItem(NAVIGATING_KEY) === addressVideoId();
  sessionStorage.removeItem(NAVIGATING_KEY);
  const reply = await chrome.runtime
    .sendMessage({ player: PLAYER_REPORT.READY, pageVideoId: addressVideoId(), openedByMoodtune })
    .catch(() => null);
  if (!reply?.isPlayer) return;
  askPage('drive');
  chrome.runtime.onMessage.addListener((message, _sender, sendResponse) => {
    if (message.type === PLAYER_COMMAND.PLAY) play(message.videoId);
    // A pause is answered with what it did, so the worker knows at once rather than from the
    // `pause` event's report a moment later (which a track ending meanwhile can overtake).
    const paused = message.type === PLAYER_COMMAND.PAUSE && pause();
    // An answer at all tells the worker this page's script is alive.
    sendResponse({
      ok: true,
      player: Boolean(video()),
      report: paused ? { player: PLAYER_REPORT.PAUSED, videoId: currentVideoId(), wanted } : null,
    });
  });
  expectPlayer();
  videoElement().then(watch);
  if (reply.videoId) play(reply.videoId);
}

start();
