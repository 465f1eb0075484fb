// The moodtune demo page: shows the host session's events and sends it the same commands the
// extension would. Events arrive over one websocket (host/transports/web.py); the camera preview
// is an MJPEG stream in an <img>. Plain DOM code, no build step.

// Every request to the demo server carries the page's token, imports too.
const {
  ACTION_LABELS,
  CALIBRATION_SECONDS,
  EMOTIONS,
  ERROR_CODE,
  EVENT,
  MOOD_LOOKS,
  command,
  errorNoticeKey,
  faceSvg,
  notice,
} = await import(`./protocol.js${location.search}`);

const TOKEN = new URLSearchParams(location.search).get("token") || "";
const NO_MOOD_COLOUR = "#334155";
const MODE_NAMES = { match: "Match my mood", lift: "Lift me up", calm: "Calm me down" };
// The status pill: short words; the banners and the preview say the rest.
const STATUS_WORDS = {
  connecting: "Connecting…",
  idle: "Camera off",
  starting: "Starting the camera…",
  camera: "Watching",
  paused: "Paused",
  error: "Camera problem",
  disconnected: "Demo stopped",
};
const TIMELINE_WINDOW_S = 10 * 60; // the timeline shows at most the last ten minutes
const CHANGES_LISTED = 8;
const TRANSIENT_BANNER_MS = 8000;
const TRACKS_WAITING = "Tracks appear here once YouTube Music answers for the mood.";

const page = {
  sampleVideo: null,
  status: { state: "connecting", camera: null, detail: null },
  override: null,
  mood: null, // the last emotion event
  moods: [], // emotion events, oldest first: the timeline
  tracksFor: null, // the emotion the tracks shown were chosen for
  musicProblem: null, // the music error event, until tracks come or the camera is off
  socket: null,
};

const $ = (id) => document.getElementById(id);

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function colour(emotion) {
  return MOOD_LOOKS[emotion]?.colour || NO_MOOD_COLOUR;
}

// A drawn face for the mood (no emoji font needed), as an element.
function face(emotion, className = "face") {
  const holder = element("span", className);
  holder.innerHTML = faceSvg(emotion);
  return holder;
}

// An emotion's face and name.
function named(emotion, name = emotion) {
  const label = element("span", "named");
  label.append(face(emotion), ` ${name}`);
  return label;
}

function title(emotion) {
  return MOOD_LOOKS[emotion]?.name || emotion;
}

function percent(value) {
  return `${Math.round(value * 100)}%`;
}

function clock(seconds) {
  return new Date(seconds * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

// Talking to the host

function connect() {
  const socket = new WebSocket(`ws://${location.host}/ws?token=${encodeURIComponent(TOKEN)}`);
  socket.addEventListener("message", (event) => receive(JSON.parse(event.data)));
  socket.addEventListener("close", () => {
    showStatus({ state: "disconnected", camera: null, detail: null });
    for (const key of ["camera", "music"]) clearBanner(key);
    showNotice("connection", notice("demo_stopped"));
  });
  page.socket = socket;
}

function send(command) {
  if (page.socket && page.socket.readyState === WebSocket.OPEN) page.socket.send(JSON.stringify(command));
}

function receive(message) {
  switch (message.type) {
    case "demo": showDemo(message); break;
    case EVENT.HELLO: showHello(message); break;
    case EVENT.STATUS: showStatus(message); break;
    case "live": showLive(message); break;
    case EVENT.EMOTION: showMood(message); break;
    case EVENT.TRACKS: showTracks(message); break;
    case EVENT.ERROR: showError(message); break;
  }
  showCalibration(message);
}

// Header: status, language, mode

function showDemo(demo) {
  page.sampleVideo = demo.sample_video;
  $("use-sample").hidden = !page.sampleVideo;
}

function showHello(hello) {
  const language = $("language");
  language.replaceChildren();
  const byName = Object.entries(hello.languages).sort(([, a], [, b]) => a.localeCompare(b));
  for (const [code, name] of byName) language.append(new Option(name, code));
  language.value = hello.language;
  const mode = $("mode");
  mode.replaceChildren();
  for (const name of hello.modes) mode.append(new Option(MODE_NAMES[name] || name, name));
  mode.value = hello.mode;
  if (hello.model) clearBanner("model");
  else showNotice("model", notice(ERROR_CODE.MODEL_MISSING));
}

function showStatus(status) {
  page.status = status;
  const { state } = status;
  $("status").dataset.state = state;
  const where = state === "camera" ? ` · ${cameraName(status.camera)}` : "";
  $("status-text").textContent = STATUS_WORDS[state] + where;
  const running = state === "camera";
  $("use-webcam").classList.toggle("active", running && status.camera === 0);
  $("use-sample").classList.toggle("active", running && status.camera === page.sampleVideo);
  const stopped = state === "disconnected" || state === "connecting";
  for (const control of document.querySelectorAll("#language, #mode, .camera-controls button, #override button")) {
    control.disabled = stopped;
  }
  $("pause").disabled = !running;
  const shown = stateNotice(status);
  if (state === "error") {
    showNotice("camera", shown, { retryCamera: status.camera });
  } else {
    // Running, starting again, switched off or paused: a camera problem is no longer news.
    clearBanner("camera");
  }
  if (state === "idle" || state === "paused") clearMusicProblem();
  $("preview-message").textContent = shown.title;
  $("preview-hint").textContent = shown.text;
  $("preview-sample").hidden = !page.sampleVideo || !["idle", "error"].includes(state);
  updatePreview();
  showMoodNow();
}

// The notice for a camera state; a failed camera gets the words for its kind (device or file).
function stateNotice({ state, camera }) {
  if (state === "error") {
    return notice(errorNoticeKey(ERROR_CODE.CAMERA_UNAVAILABLE, camera), cameraWords(camera));
  }
  if (state === "disconnected") return notice("demo_stopped");
  if (state === "connecting") return { title: STATUS_WORDS.connecting, text: "" };
  return notice(state, cameraWords(camera));
}

function cameraWords(camera) {
  return { camera, sampleVideo: page.sampleVideo };
}

function cameraName(camera) {
  if (camera === page.sampleVideo) return "sample video";
  if (typeof camera === "number") return `webcam ${camera}`;
  return String(camera).split(/[\\/]/).pop();
}

// Camera preview and live probabilities

// The stream runs only while the camera is on and the tab is visible, so the host encodes
// preview frames only while someone can see them.
function updatePreview() {
  const preview = $("preview");
  const wanted = page.status.state === "camera" && !document.hidden;
  if (wanted && !preview.getAttribute("src")) {
    preview.src = `preview.mjpg?token=${encodeURIComponent(TOKEN)}`;
  } else if (!wanted && preview.getAttribute("src")) {
    preview.removeAttribute("src");
  }
  $("preview-off").hidden = wanted;
  if (!wanted) showLive({ face: false, probabilities: null });
}

function buildBars() {
  const list = $("live");
  for (const emotion of EMOTIONS) {
    const row = element("li");
    row.dataset.emotion = emotion;
    const bar = element("div", "track");
    const fill = element("div", "fill");
    fill.style.background = colour(emotion);
    bar.append(fill);
    const label = named(emotion, title(emotion));
    label.classList.add("label");
    row.append(label, bar, element("span", "value", "–"));
    list.append(row);
  }
}

function showLive(live) {
  const list = $("live");
  list.classList.toggle("no-face", !live.probabilities);
  const running = page.status.state === "camera";
  // A face that cannot be read says why (too dark, turned away), in the popup's own words.
  const unreadable = live.quality && live.quality !== "ok" ? notice(live.quality).title : null;
  $("live-note").textContent = !running
    ? ""
    : live.probabilities
      ? "each frame, before smoothing"
      : (unreadable ?? (live.face ? "" : "no face in view"));
  for (const row of list.children) {
    const value = live.probabilities ? live.probabilities[row.dataset.emotion] : 0;
    row.querySelector(".fill").style.width = percent(value);
    row.querySelector(".value").textContent = live.probabilities ? percent(value) : "–";
  }
}

// Mood, override, timeline

function showMood(event) {
  page.override = event.source === "override" ? event.emotion : null;
  page.mood = event;
  page.moods.push(event);
  for (const chip of $("override").children) {
    chip.classList.toggle("active", (chip.dataset.emotion || null) === page.override);
  }
  showMoodNow();
  showTimeline();
  showTracksFor();
}

// The mood card. The mood is live while the camera runs (or it was set by hand); otherwise it
// is the last one read, and shown as such.
function showMoodNow() {
  const event = page.mood;
  const emotion = event?.emotion ?? null;
  const { state } = page.status;
  const connected = state !== "disconnected" && state !== "connecting";
  const byHand = connected && event?.source === "override";
  const live = byHand || state === "camera";
  $("mood-face").innerHTML = faceSvg(emotion);
  $("mood-face").style.setProperty("--mood", emotion ? colour(emotion) : "transparent");
  document.documentElement.style.setProperty("--mood", colour(emotion));
  $("mood-card").classList.toggle("stale", !live && emotion !== null);
  let name = emotion ? title(emotion) : "No mood yet";
  let detail;
  if (byHand) {
    detail = "Set by hand. Choose Auto to follow the camera again.";
  } else if (!live) {
    const why = stateNotice(page.status).title;
    detail = emotion ? `${why}. This is the last mood it read.` : `${why}.`;
  } else if (emotion) {
    detail = `${percent(event.confidence)} sure · from the camera`;
  } else if (event?.face) {
    name = "Unsure";
    detail = "A face is in view; the mood settles in a moment.";
  } else {
    ({ title: name, text: detail } = notice("no_face"));
  }
  $("mood-name").textContent = name;
  $("mood-detail").textContent = detail;
}

function buildOverrideChips() {
  const chips = $("override");
  const auto = element("button", "active", "Auto");
  auto.type = "button";
  auto.addEventListener("click", () => send(command.overrideMood(null)));
  chips.append(auto);
  for (const emotion of EMOTIONS) {
    const chip = element("button");
    chip.append(named(emotion, title(emotion)));
    chip.type = "button";
    chip.dataset.emotion = emotion;
    chip.addEventListener("click", () => send(command.overrideMood(emotion)));
    chips.append(chip);
  }
}

function showTimeline() {
  const now = Date.now() / 1000;
  const moods = page.moods;
  const timeline = $("timeline");
  timeline.replaceChildren();
  if (moods.length === 0) {
    $("timeline-span").textContent = "";
    return;
  }
  const start = Math.max(moods[0].timestamp, now - TIMELINE_WINDOW_S);
  const span = Math.max(now - start, 1);
  moods.forEach((mood, i) => {
    const from = Math.max(mood.timestamp, start);
    const to = i + 1 < moods.length ? moods[i + 1].timestamp : now;
    if (to <= start) return;
    const segment = element("div");
    segment.style.flexGrow = String((to - from) / span);
    segment.style.background = colour(mood.emotion);
    segment.title = `${clock(mood.timestamp)} ${mood.emotion || "no face"}`;
    timeline.append(segment);
  });
  const minutes = Math.round(span / 60);
  $("timeline-span").textContent = minutes >= 1 ? `last ${minutes} min` : `last ${Math.round(span)} s`;

  const changes = $("changes");
  changes.replaceChildren();
  for (const mood of moods.slice(-CHANGES_LISTED).reverse()) {
    const item = element("li");
    const swatch = element("span", "swatch");
    swatch.style.background = colour(mood.emotion);
    const how = mood.source === "override" ? "by hand" : mood.confidence ? percent(mood.confidence) : "";
    item.append(
      element("time", "", clock(mood.timestamp)),
      swatch,
      named(mood.emotion, mood.emotion ? title(mood.emotion) : "No face"),
      element("span", "confidence", how),
    );
    changes.append(item);
  }
}

// Tracks

function showTracks(message) {
  $("language").value = message.language;
  $("mode").value = message.mode;
  page.tracksFor = message;
  clearMusicProblem();
  const grid = $("tracks");
  if (message.reason !== "more") grid.replaceChildren();
  if (message.tracks.length === 0 && grid.children.length === 0) {
    const { title: heading, text } = notice("no_tracks");
    grid.append(element("p", "empty", `${heading}. ${text}`));
  }
  for (const track of message.tracks) grid.append(trackCard(track, message.emotion));
  showTracksFor();
}

// What the tracks shown are for, and whether they are behind the mood shown.
function showTracksFor() {
  const shown = page.tracksFor;
  const now = page.mood?.emotion;
  if (!shown) {
    $("tracks-for").textContent = "";
    if (page.musicProblem) {
      // The banner above says what to do; here only why the panel is empty.
      const { title: heading } = notice(page.musicProblem.code);
      $("tracks").replaceChildren(element("p", "empty", `No tracks yet: ${heading}.`));
    }
    return;
  }
  const names = Object.fromEntries([...$("language").options].map((o) => [o.value, o.text]));
  let words = `for ${title(shown.emotion)} · ${names[shown.language] || shown.language} · ${MODE_NAMES[shown.mode] || shown.mode}`;
  if (now && now !== shown.emotion) {
    words += page.musicProblem
      ? ` · none yet for ${title(now)}: YouTube Music cannot be reached`
      : ` · finding ${title(now)} music…`;
  }
  $("tracks-for").textContent = words;
}

function trackCard(track, emotion) {
  const url = `https://music.youtube.com/watch?v=${encodeURIComponent(track.video_id)}`;
  const card = element("article", "track");
  const art = element("a", "art");
  art.href = url;
  art.target = "_blank";
  art.rel = "noopener noreferrer";
  art.style.setProperty("--mood", colour(emotion));
  art.setAttribute("aria-label", `Play ${track.title} on YouTube Music`);
  // The mood's face lies under the artwork: it shows until the picture loads, and stays
  // where the picture cannot load (offline), instead of a broken image.
  art.append(face(emotion, "art-face"));
  if (track.thumbnail) {
    const image = element("img");
    image.alt = "";
    image.loading = "lazy";
    image.referrerPolicy = "no-referrer";
    image.addEventListener("error", () => image.remove());
    image.src = track.thumbnail;
    art.append(image);
  }
  const title = element("a", "title", track.title);
  title.href = url;
  title.target = "_blank";
  title.rel = "noopener noreferrer";
  const play = element("a", "play", "▶ Play on YouTube Music");
  play.href = url;
  play.target = "_blank";
  play.rel = "noopener noreferrer";
  card.append(art, title, element("div", "artists", track.artists.join(", ")), element("div", "reason", track.reason), play);
  return card;
}

function clearMusicProblem() {
  page.musicProblem = null;
  clearBanner("music");
  if (!page.tracksFor) $("tracks").replaceChildren(element("p", "empty", TRACKS_WAITING));
}

// Banners: every one is a notice from the shared table (host/messages.py), as in the popup.

// What each of a notice's actions does on this page (it has no Settings page to open).
function noticeActions(shown, { retryCamera = null, searchUrl = null } = {}) {
  const actions = [];
  for (const action of shown.actions) {
    if (action === "retry" && retryCamera !== null) {
      actions.push({ label: ACTION_LABELS.retry, onClick: () => send(command.start(retryCamera)) });
    } else if (action === "play_sample" && page.sampleVideo && retryCamera !== page.sampleVideo) {
      actions.push({ label: ACTION_LABELS.play_sample, onClick: playSample });
    } else if (action === "search_music" && searchUrl) {
      actions.push({ label: ACTION_LABELS.search_music, url: searchUrl });
    }
  }
  return actions;
}

function showNotice(key, shown, context = {}) {
  let banner = document.querySelector(`.banner[data-key="${key}"]`);
  if (!banner) {
    banner = element("div", "banner");
    banner.dataset.key = key;
    banner.setAttribute("role", "alert");
    $("banners").append(banner);
  }
  banner.dataset.notice = shown.key || "";
  banner.classList.toggle("bad", shown.tone === "bad");
  banner.classList.toggle("info", shown.tone === "info");
  const words = element("div", "words");
  words.append(element("strong", "", shown.title), element("p", "", shown.text));
  if (shown.command) words.append(element("code", "", shown.command));
  banner.replaceChildren(words);
  for (const action of noticeActions(shown, context)) {
    if (action.url) {
      const anchor = element("a", "", `${action.label} ↗`);
      anchor.href = action.url;
      anchor.target = "_blank";
      anchor.rel = "noopener noreferrer";
      banner.append(anchor);
    } else {
      const button = element("button", "", action.label);
      button.type = "button";
      button.addEventListener("click", action.onClick);
      banner.append(button);
    }
  }
  return banner;
}

function clearBanner(key) {
  document.querySelector(`.banner[data-key="${key}"]`)?.remove();
}

function showError(error) {
  if (error.code.startsWith("calibration_")) return; // shown beside the calibrate button
  if (error.code === ERROR_CODE.CAMERA_UNAVAILABLE) {
    // The status that comes with it says the camera's state; the banner follows the status.
    return;
  }
  if (error.code === ERROR_CODE.MUSIC_UNAVAILABLE || error.code === ERROR_CODE.MUSIC_ERROR) {
    page.musicProblem = error;
    showNotice("music", notice(error.code), { searchUrl: error.fallback_url });
    showTracksFor();
    return;
  }
  const shown = notice(error.code);
  if (shown) {
    showNotice(`error-${error.code}`, shown);
  } else {
    // A code newer than this page: the host's own words are all there is.
    const banner = showNotice(`error-${error.code}`, { title: "Something went wrong", text: error.message, actions: [], tone: "warn" });
    setTimeout(() => banner.remove(), TRANSIENT_BANNER_MS);
  }
}

// Controls

function playSample() {
  if (page.sampleVideo) send(command.start(page.sampleVideo));
}

function wireControls() {
  $("use-webcam").addEventListener("click", () => send(command.start(0)));
  $("use-sample").addEventListener("click", playSample);
  $("preview-sample").addEventListener("click", playSample);
  $("pause").addEventListener("click", () => send(command.pause()));
  $("language").addEventListener("change", (event) => send(command.setLanguage(event.target.value)));
  $("mode").addEventListener("change", (event) => send(command.setMode(event.target.value)));
  document.addEventListener("visibilitychange", updatePreview);
}

// Calibrate to my face: offered once, the first time the camera runs; progress, result, reset.

const OFFERED_KEY = "moodtune-calibration-offered";
const calibration = { since: null, progress: null, error: null };

function showCalibration(message) {
  if (message.type === EVENT.HELLO || message.type === EVENT.STATUS) {
    calibration.since = message.calibrated_since ?? null;
  } else if (message.type === EVENT.CALIBRATION_PROGRESS) {
    Object.assign(calibration, { progress: message.progress, error: null });
  } else if (message.type === EVENT.CALIBRATED) {
    Object.assign(calibration, { since: message.since, progress: null, error: null });
  } else if (message.type === EVENT.ERROR && message.code.startsWith("calibration_")) {
    Object.assign(calibration, { progress: null, error: message });
  } else {
    return;
  }
  renderCalibration();
}

function renderCalibration() {
  const running = page.status.state === "camera";
  const collecting = calibration.progress !== null;
  const offer = running && calibration.since === null && !localStorage.getItem(OFFERED_KEY);
  $("calibration").hidden = !(running || collecting || calibration.error || calibration.since);
  $("calibration-ring").hidden = !collecting;
  const percent = Math.round((calibration.progress ?? 0) * 100);
  $("calibration-arc").setAttribute("stroke-dasharray", `${percent} 100`);
  $("calibration-ring").setAttribute("aria-valuenow", String(percent));
  let title = "Calibrate to my face";
  let text = "So your usual face is not read as sad or angry.";
  if (collecting) {
    title = "Calibrating…";
    text = `Look at the screen as you usually do for ${CALIBRATION_SECONDS} seconds.`;
  } else if (calibration.error) {
    const words = notice(calibration.error.code);
    title = words?.title ?? "Calibration did not work";
    text = words?.text ?? calibration.error.message;
  } else if (calibration.since !== null) {
    const today = new Date().toDateString() === new Date(calibration.since * 1000).toDateString();
    title = today ? "Calibrated today"
      : `Calibrated on ${new Date(calibration.since * 1000).toLocaleDateString()}`;
    text = "moodtune knows your usual face.";
  } else if (offer) {
    text = `So your usual face is not read as sad or angry: look at the screen as you usually do for ${CALIBRATION_SECONDS} seconds.`;
  }
  $("calibration-title").textContent = title;
  $("calibration-text").textContent = text;
  $("calibrate").hidden = collecting;
  $("calibrate").disabled = !running;
  $("calibrate").textContent = calibration.error ? "Try again"
    : calibration.since !== null ? "Calibrate again" : "Calibrate to my face";
  $("calibration-later").hidden = !offer || collecting || Boolean(calibration.error);
  $("reset-calibration").hidden = calibration.since === null || collecting;
}

function wireCalibration() {
  $("calibrate").addEventListener("click", () => {
    localStorage.setItem(OFFERED_KEY, "yes");
    Object.assign(calibration, { progress: 0, error: null });
    renderCalibration();
    send(command.calibrate());
  });
  $("calibration-later").addEventListener("click", () => {
    localStorage.setItem(OFFERED_KEY, "yes");
    renderCalibration();
  });
  $("reset-calibration").addEventListener("click", () => send(command.resetCalibration()));
}

buildBars();
buildOverrideChips();
wireControls();
showStatus(page.status);
wireCalibration();
showLive({ face: false, probabilities: null });
connect();
setInterval(showTimeline, 1000);
