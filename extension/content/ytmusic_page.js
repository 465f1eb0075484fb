// The part of moodtune that runs in YouTube Music's own JavaScript world ("world": "MAIN"):
// every call into the page's objects is here — the player's API (`#movie_player`), the app's
// activity clock (`window._lact`), its "Continue watching?" popup and the media-key handlers.
// It has no chrome.* APIs; it talks to the isolated content script (ytmusic.js) through DOM
// events carrying JSON text, which both worlds can read. It does nothing in a tab until that
// script says moodtune drives it.
//
// Runs at document_start, before the page's scripts, so the media-key handlers the page sets
// pass through it.

(() => {
  const TO_PAGE = 'moodtune:to-page';
  const FROM_PAGE = 'moodtune:from-page';
  const YOU_THERE = 'YTMUSIC-YOU-THERE-RENDERER';
  const YOU_THERE_BUTTON = 'yt-button-renderer button, tp-yt-paper-button, button';
  // YouTube Music pauses after a long time without a click or key (its `_lact` clock); music
  // played in a background tab all day has none, so moodtune keeps the clock fresh.
  const ACTIVITY_REFRESH_MS = 15_000;

  let driving = false;

  function tell(message) {
    document.dispatchEvent(new CustomEvent(FROM_PAGE, { detail: JSON.stringify(message) }));
  }

  function player() {
    return document.getElementById('movie_player');
  }

  function refreshActivity() {
    if (driving) window._lact = Date.now();
  }

  // "Video paused. Continue watching?": confirm it and play on.
  function dismissYouThere(renderer) {
    if (!driving || !renderer.isConnected || renderer.dataset.moodtuneDismissed) return;
    renderer.dataset.moodtuneDismissed = 'yes';
    const button = renderer.querySelector(YOU_THERE_BUTTON);
    if (button) button.click();
    else renderer.closest('ytmusic-popup-container')?.click();
    refreshActivity();
    const api = player();
    if (typeof api?.playVideo === 'function') api.playVideo();
    else document.querySelector('video')?.play().catch(() => {});
    tell({ event: 'you_there' });
  }

  document.addEventListener('yt-popup-opened', (event) => {
    if (event.detail?.nodeName === YOU_THERE) dismissYouThere(event.detail);
  });
  // In case the page opens it without the event (or before this world was told to drive).
  new MutationObserver(() => {
    if (!driving) return;
    const renderer = document.querySelector('ytmusic-you-there-renderer');
    if (renderer) dismissYouThere(renderer);
  }).observe(document, { childList: true, subtree: true });

  // The media keys' next-track goes to moodtune's queue, not to YouTube Music's own.
  const pageHandlers = new Map();
  if (navigator.mediaSession) {
    const setActionHandler = navigator.mediaSession.setActionHandler.bind(navigator.mediaSession);
    navigator.mediaSession.setActionHandler = (action, handler) => {
      if (action !== 'nexttrack') return setActionHandler(action, handler);
      pageHandlers.set(action, handler);
      return setActionHandler(action, (details) => {
        if (driving) tell({ event: 'next_track' });
        else pageHandlers.get(action)?.(details);
      });
    };
  }

  const requests = {
    drive() {
      if (driving) return { ok: true };
      driving = true;
      refreshActivity();
      setInterval(refreshActivity, ACTIVITY_REFRESH_MS);
      // The media clock runs in a background tab where timers are slowed down.
      document.addEventListener('timeupdate', refreshActivity, true);
      return { ok: true };
    },
    // Play a track in place, without loading a page; `ok: false` when the player has no API.
    load({ videoId }) {
      const api = player();
      if (typeof api?.loadVideoById !== 'function') return { ok: false };
      api.loadVideoById(videoId);
      return { ok: true };
    },
    // The video the player holds, by its own account (the address may lag behind).
    video() {
      const api = player();
      const data = typeof api?.getVideoData === 'function' ? api.getVideoData() : null;
      return { videoId: data?.video_id || null, hasApi: typeof api?.loadVideoById === 'function' };
    },
  };

  // Requests are answered synchronously: dispatchEvent runs the other world's listener before
  // it returns, so the isolated script has its answer on the next line.
  document.addEventListener(TO_PAGE, (event) => {
    let request;
    try {
      request = JSON.parse(event.detail);
    } catch {
      return; // not one of moodtune's
    }
    const answer = Object.hasOwn(requests, request.op) ? requests[request.op](request) : null;
    tell({ answer, id: request.id });
  });
})();
