// Everything moodtune knows about YouTube Music's page lives in this file: how to play a track,
// how to tell that it plays, pauses, ends or fails, and where the player bar shows what is on.
// When YouTube Music changes its page, this is the one file to fix.
//
// It runs in every YouTube Music tab but drives only the tab the service worker opened for
// moodtune; in the listener's other tabs it asks once and then does nothing.

const PAGE = {
  video: 'video.html5-main-video',
  title: 'ytmusic-player-bar .title',
  byline: 'ytmusic-player-bar .byline',
  artwork: 'ytmusic-player-bar img.image',
  playabilityError: 'ytmusic-player yt-playability-error-supported-renderers',
};
const AUTOPLAY_GRACE_MS = 5000; // how long a fresh page may take to start playing by itself
const NEAR_END_S = 1.5;

let wanted = null; // the videoId the worker asked for
let leaving = false; // navigating to another track: the old page's pause is not the listener's
let nearEnd = false; // the wanted track reached its last moments

function currentVideoId() {
  return new URLSearchParams(location.search).get('v');
}

function watchUrl(videoId) {
  return `${location.origin}/watch?v=${encodeURIComponent(videoId)}`;
}

function text(selector) {
  return document.querySelector(selector)?.textContent.trim() || null;
}

function nowPlaying() {
  return {
    videoId: currentVideoId(),
    title: text(PAGE.title),
    // The byline reads "Artist • Album • Year"; the artist comes first.
    artist: text(PAGE.byline)?.split('•')[0].trim() || null,
    artwork: document.querySelector(PAGE.artwork)?.src || null,
  };
}

function report(player, details = {}) {
  chrome.runtime.sendMessage({ player, videoId: currentVideoId(), ...details }).catch(() => {
    // The worker is restarting; it asks again through `ready` when the next page loads.
  });
}

function video() {
  return document.querySelector(PAGE.video);
}

// YouTube Music builds its player after the page loads: wait for the <video> to appear.
function videoElement() {
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
  });
}

async function play(videoId) {
  wanted = videoId;
  nearEnd = false;
  if (currentVideoId() !== videoId) {
    leaving = true;
    location.assign(watchUrl(videoId));
    return;
  }
  const element = await videoElement();
  if (!element.paused) {
    report('playing', nowPlaying());
  } else if (element.played.length > 0) {
    resume(element); // the listener paused it and now wants it back
  } else {
    // A fresh watch page starts by itself; step in only if it has not after a while.
    setTimeout(() => {
      if (leaving || !element.paused || element.played.length > 0) return;
      const panel = document.querySelector(PAGE.playabilityError);
      if (panel?.checkVisibility()) report('error', { message: panel.textContent.trim() });
      else resume(element);
    }, AUTOPLAY_GRACE_MS);
  }
}

function resume(element) {
  element.play().catch((error) => {
    // The browser's autoplay policy wants a click in the tab first.
    if (error.name === 'NotAllowedError') report('blocked');
  });
}

async function pause() {
  (await videoElement()).pause();
}

function watch(element) {
  element.addEventListener('playing', () => {
    if (wanted && currentVideoId() !== wanted && nearEnd) {
      // YouTube Music moved on to a track of its own choosing: ours has ended.
      chrome.runtime.sendMessage({ player: 'ended', videoId: wanted }).catch(() => {});
      wanted = null;
      return;
    }
    report('playing', nowPlaying());
  });
  // The browser fires `pause` just before `ended`; only a pause mid-track is the listener's.
  element.addEventListener('pause', () => {
    if (!element.ended && !leaving) report('paused');
  });
  element.addEventListener('ended', () => report('ended'));
  element.addEventListener('error', () => report('error', { message: element.error?.message }));
  element.addEventListener('timeupdate', () => {
    nearEnd ||= currentVideoId() === wanted && element.duration - element.currentTime < NEAR_END_S;
  });
}

async function start() {
  const reply = await chrome.runtime.sendMessage({ player: 'ready' }).catch(() => null);
  if (!reply?.isPlayer) return;
  chrome.runtime.onMessage.addListener((message, _sender, sendResponse) => {
    if (message.type === 'play') play(message.videoId);
    else if (message.type === 'pause') pause();
    sendResponse({ ok: true }); // an unanswered message reads as "nobody listening" to the worker
  });
  videoElement().then(watch);
  if (reply.videoId) play(reply.videoId);
}

start();
