// The stand-in YouTube Music app: the parts of music.youtube.com's behaviour that moodtune
// meets, modelled on the real page. The server (tests/e2e/conftest.py) puts the test's chosen
// behaviour in #standin-config:
//   playerApi          #movie_player has loadVideoById / getVideoData / playVideo / pauseVideo
//   adFirst            the first track of each page load is preceded by an ad: #movie_player
//                      gets ad-showing + ad-interrupting, the player bar shows .advertisement
//   youThereAfterS     after this long without activity, the video pauses and
//                      ytmusic-you-there-renderer opens ("Video paused. Continue watching?")
//   youThereWatchesActivity  whether activity means `window._lact` (true) or only real input
//   youThereEvent      whether opening it fires `yt-popup-opened` (detail: the renderer)
//   unplayable         video ids that show the playability error instead of playing
// The real app also starts each track by itself (and the browser may refuse it sound until a
// click in the tab), and plays its own next track when the media keys ask.
(() => {
  const CONFIG = JSON.parse(document.getElementById('standin-config').textContent);
  const AD_SECONDS_URL = '/_standin/ad.webm';
  // What a test reads, and the unplayable ids it may add to.
  const standin = (window.standin = {
    youThereOpened: 0,
    loads: [],
    adsPlayed: 0,
    unplayable: new Set(CONFIG.unplayable),
  });

  const bar = document.querySelector('ytmusic-player-bar');
  const host = document.querySelector('ytmusic-player');
  const errorPanel = host.querySelector('yt-playability-error-supported-renderers');
  const adBadge = bar.querySelector('.advertisement');
  let current = new URLSearchParams(location.search).get('v');
  let adPending = CONFIG.adFirst;
  let lastInput = Date.now();

  // The app's activity clock: real input moves it; YouTube Music reads it before pausing.
  window._lact = Date.now();
  for (const type of ['mousedown', 'keydown']) {
    document.addEventListener(type, () => {
      window._lact = Date.now();
      lastInput = Date.now();
    }, true);
  }

  const movie = document.createElement('div');
  movie.id = 'movie_player';
  movie.className = 'html5-video-player';
  const video = document.createElement('video');
  video.className = 'video-stream html5-main-video';
  movie.append(video);

  function showTrack(videoId) {
    bar.querySelector('.title').textContent = `Track ${videoId}`;
    bar.querySelector('img.image').src = `https://i.ytimg.com/vi/${videoId}/sddefault.jpg`;
  }

  function startPlaying() {
    // As the real app does: play, and if the browser refuses, show the play button.
    video.play().catch(() => {});
  }

  function playTrack(videoId) {
    movie.classList.remove('ad-showing', 'ad-interrupting');
    adBadge.hidden = true;
    video.src = `/_standin/track.webm?v=${encodeURIComponent(videoId)}`;
    startPlaying();
  }

  function load(videoId) {
    current = videoId;
    standin.loads.push(videoId);
    errorPanel.hidden = true;
    showTrack(videoId);
    if (standin.unplayable.has(videoId)) {
      video.removeAttribute('src');
      video.load();
      errorPanel.textContent = 'This video is not available';
      errorPanel.hidden = false;
      return;
    }
    if (adPending) {
      adPending = false;
      movie.classList.add('ad-showing', 'ad-interrupting');
      adBadge.hidden = false;
      video.src = AD_SECONDS_URL;
      video.addEventListener('ended', () => {
        standin.adsPlayed += 1;
        if (current === videoId) playTrack(videoId);
      }, { once: true });
      startPlaying();
      return;
    }
    playTrack(videoId);
  }

  if (CONFIG.playerApi) {
    movie.loadVideoById = (videoId) => load(String(videoId));
    movie.getVideoData = () => ({ video_id: current ?? '' });
    movie.playVideo = () => startPlaying();
    movie.pauseVideo = () => video.pause();
  }

  // The listener picks a song inside the app: the app navigates without a page load.
  standin.listenerPicks = (videoId) => {
    history.pushState({}, '', `/watch?v=${encodeURIComponent(videoId)}`);
    load(videoId);
  };

  // The media keys' next track: the app plays a track of its own choosing.
  if (navigator.mediaSession) {
    navigator.mediaSession.setActionHandler('nexttrack', () => standin.listenerPicks('AppsOwnNext1'));
  }

  // "Video paused. Continue watching?": the video pauses, then the popup shows.
  function openYouThere() {
    video.addEventListener('pause', showYouThere, { once: true });
    video.pause();
  }

  function showYouThere() {
    const container = document.querySelector('ytmusic-popup-container');
    const dialog = document.createElement('tp-yt-paper-dialog');
    const renderer = document.createElement('ytmusic-you-there-renderer');
    renderer.innerHTML =
      '<p class="text">Video paused. Continue watching?</p>' +
      '<yt-button-renderer dialog-confirm><button type="button">Yes</button></yt-button-renderer>';
    renderer.querySelector('button').addEventListener('click', () => {
      dialog.remove();
      lastInput = Date.now();
      startPlaying();
    });
    dialog.append(renderer);
    container.append(dialog);
    standin.youThereOpened += 1;
    if (CONFIG.youThereEvent) {
      document.dispatchEvent(new CustomEvent('yt-popup-opened', { detail: renderer, bubbles: true }));
    }
  }

  if (CONFIG.youThereAfterS !== null) {
    setInterval(() => {
      if (video.paused || document.querySelector('ytmusic-you-there-renderer')) return;
      if (movie.classList.contains('ad-showing')) return;
      const active = CONFIG.youThereWatchesActivity ? window._lact : lastInput;
      if (Date.now() - active > CONFIG.youThereAfterS * 1000) openYouThere();
    }, 200);
  }

  // The player appears a moment after the page, as the real app builds it with script.
  setTimeout(() => {
    host.append(movie);
    if (current) load(current);
  }, 300);
})();
