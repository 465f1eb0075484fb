// The moodtune demo page: shows the host session's events and sends it the same commands the
// extension would. Events arrive over one websocket (host/transports/web.py); the camera preview
// is an MJPEG stream in an <img>. Plain DOM code, no build step.

// Every request to the demo server carries the page's token, imports too.
const { EMOTIONS, ERROR_CODE, EVENT, command } = await import(`./protocol.js${location.search}`);

const TOKEN = new URLSearchParams(location.search).get("token") || "";
const LOOK = {
  angry: { emoji: "😠", colour: "#f87171" },
  disgust: { emoji: "🤢", colour: "#a3e635" },
  fear: { emoji: "😨", colour: "#c084fc" },
  happy: { emoji: "😄", colour: "#facc15" },
  neutral: { emoji: "😐", colour: "#94a3b8" },
  sad: { emoji: "😢", colour: "#60a5fa" },
  surprise: { emoji: "😲", colour: "#fb923c" },
};
const NO_MOOD = { emoji: "·", colour: "#334155" };
const MODE_NAMES = { match: "Match my mood", lift: "Lift me up", calm: "Calm me down" };
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

const page = {
  sampleVideo: null,
  status: { state: "connecting", camera: null, detail: null },
  override: null,
  moods: [], // emotion events, oldest first: the timeline
  socket: null,
};

const $ = (id) => document.getElementById(id);

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function look(emotion) {
  return LOOK[emotion] || NO_MOOD;
}

// An emotion's emoji and name; the emoji gets a colour-emoji font of its own, since text fonts
// that carry emoji outlines would otherwise win.
function named(emotion, name = emotion) {
  const label = element("span");
  label.append(element("span", "emoji", look(emotion).emoji), ` ${name}`);
  return label;
}

function title(emotion) {
  return emotion.charAt(0).toUpperCase() + emotion.slice(1);
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
    showBanner("connection", "bad", "The demo has stopped. Run moodtune demo again and open the new address it prints.");
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
}

// Header: status, language, mode

function showDemo(demo) {
  page.sampleVideo = demo.sample_video;
  $("use-sample").hidden = !page.sampleVideo;
}

function showHello(hello) {
  const language = $("language");
  language.replaceChildren();
  for (const [code, name] of Object.entries(hello.languages)) language.append(new Option(name, code));
  language.value = hello.language;
  language.disabled = false;
  const mode = $("mode");
  mode.replaceChildren();
  for (const name of hello.modes) mode.append(new Option(MODE_NAMES[name] || name, name));
  mode.value = hello.mode;
  mode.disabled = false;
  if (!hello.model) {
    showBanner("model", "bad", "No emotion model is installed, so the camera cannot read moods. You can still set the mood by hand.");
  }
}

function showStatus(status) {
  page.status = status;
  $("status").dataset.state = status.state;
  const where = status.state === "camera" ? ` · ${cameraName(status.camera)}` : "";
  $("status-text").textContent = STATUS_WORDS[status.state] + where;
  $("use-webcam").classList.toggle("active", status.state === "camera" && status.camera === 0);
  $("use-sample").classList.toggle("active", status.state === "camera" && status.camera === page.sampleVideo);
  $("pause").disabled = status.state !== "camera";
  if (status.state === "error") {
    showBanner("camera", "bad", `The camera could not start: ${status.detail || "unknown problem"}.`,
      page.sampleVideo ? { label: "Play the sample video", onClick: playSample } : null);
  } else if (status.state === "camera" || status.state === "starting") {
    clearBanner("camera");
  }
  const messages = {
    idle: status.detail ? `Camera off: ${status.detail}` : "Camera off",
    starting: "Starting the camera…",
    paused: "Paused: the camera is released",
    error: "The camera could not start",
    disconnected: "The demo has stopped",
    connecting: "Connecting…",
  };
  $("preview-message").textContent = messages[status.state] || "";
  $("preview-sample").hidden = !page.sampleVideo || !["idle", "error"].includes(status.state);
  updatePreview();
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
    fill.style.background = look(emotion).colour;
    bar.append(fill);
    const label = named(emotion);
    label.className = "label";
    row.append(label, bar, element("span", "value", "–"));
    list.append(row);
  }
}

function showLive(live) {
  const list = $("live");
  list.classList.toggle("no-face", !live.probabilities);
  $("live-note").textContent = live.probabilities ? "each frame, before smoothing" : "no face in view";
  for (const row of list.children) {
    const value = live.probabilities ? live.probabilities[row.dataset.emotion] : 0;
    row.querySelector(".fill").style.width = percent(value);
    row.querySelector(".value").textContent = live.probabilities ? percent(value) : "–";
  }
}

// Mood, override, timeline

function showMood(event) {
  page.override = event.source === "override" ? event.emotion : null;
  page.moods.push(event);
  const { emoji, colour } = look(event.emotion);
  const face = $("mood-face");
  face.textContent = emoji;
  face.style.setProperty("--mood", event.emotion ? colour : "transparent");
  document.documentElement.style.setProperty("--mood", colour);
  $("mood-name").textContent = event.emotion ? title(event.emotion) : event.face ? "Unsure" : "No face";
  let detail;
  if (event.source === "override") detail = "Set by hand. Choose Auto to follow the camera again.";
  else if (!event.emotion) detail = "Look into the camera; the mood settles a moment after a face appears.";
  else detail = `${percent(event.confidence)} sure · from the camera`;
  $("mood-detail").textContent = detail;
  for (const chip of $("override").children) {
    chip.classList.toggle("active", (chip.dataset.emotion || null) === page.override);
  }
  showTimeline();
}

function buildOverrideChips() {
  const chips = $("override");
  const auto = element("button", "active", "Auto");
  auto.type = "button";
  auto.addEventListener("click", () => send(command.overrideMood(null)));
  chips.append(auto);
  for (const emotion of EMOTIONS) {
    const chip = element("button");
    chip.append(named(emotion));
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
    segment.style.background = look(mood.emotion).colour;
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
    swatch.style.background = look(mood.emotion).colour;
    const how = mood.source === "override" ? "by hand" : mood.confidence ? percent(mood.confidence) : "";
    item.append(
      element("time", "", clock(mood.timestamp)),
      swatch,
      named(mood.emotion, mood.emotion || "no face"),
      element("span", "confidence", how),
    );
    changes.append(item);
  }
}

// Tracks

function showTracks(message) {
  $("language").value = message.language;
  $("mode").value = message.mode;
  const names = Object.fromEntries([...$("language").options].map((o) => [o.value, o.text]));
  $("tracks-for").textContent =
    `for ${message.emotion} · ${names[message.language] || message.language} · ${MODE_NAMES[message.mode] || message.mode}`;
  const grid = $("tracks");
  if (message.reason !== "more") grid.replaceChildren();
  if (message.tracks.length === 0 && grid.children.length === 0) {
    grid.append(element("p", "empty", "YouTube Music found nothing for this mood and language."));
  }
  for (const track of message.tracks) grid.append(trackCard(track, message.emotion));
}

function trackCard(track, emotion) {
  const url = `https://music.youtube.com/watch?v=${encodeURIComponent(track.video_id)}`;
  const card = element("article", "track");
  const art = element("a", "art");
  art.href = url;
  art.target = "_blank";
  art.rel = "noopener noreferrer";
  art.style.setProperty("--mood", look(emotion).colour);
  if (track.thumbnail) {
    const image = element("img");
    image.src = track.thumbnail;
    image.alt = "";
    image.loading = "lazy";
    image.referrerPolicy = "no-referrer";
    art.append(image);
  } else {
    art.textContent = look(emotion).emoji;
  }
  const title = element("a", "title", track.title);
  title.href = url;
  title.target = "_blank";
  title.rel = "noopener noreferrer";
  title.title = track.title;
  const play = element("a", "play", "▶ Play on YouTube Music");
  play.href = url;
  play.target = "_blank";
  play.rel = "noopener noreferrer";
  card.append(art, title, element("div", "artists", track.artists.join(", ")), element("div", "reason", track.reason), play);
  return card;
}

// Banners

function showBanner(key, kind, text, action = null, link = null) {
  let banner = document.querySelector(`.banner[data-key="${key}"]`);
  if (!banner) {
    banner = element("div", "banner");
    banner.dataset.key = key;
    $("banners").append(banner);
  }
  banner.classList.toggle("bad", kind === "bad");
  banner.replaceChildren(element("p", "", text));
  if (link) {
    const anchor = element("a", "", link.label);
    anchor.href = link.url;
    anchor.target = "_blank";
    anchor.rel = "noopener noreferrer";
    banner.firstChild.append(" ", anchor);
  }
  if (action) {
    const button = element("button", "", action.label);
    button.type = "button";
    button.addEventListener("click", action.onClick);
    banner.append(button);
  }
  return banner;
}

function clearBanner(key) {
  document.querySelector(`.banner[data-key="${key}"]`)?.remove();
}

function showError(error) {
  if (error.code === ERROR_CODE.CAMERA_UNAVAILABLE && page.status.state !== "error") {
    // The device dropped out while running; the host keeps retrying.
    showBanner("camera", "warn", `${error.message}.`);
  } else if (error.code === ERROR_CODE.MODEL_MISSING) {
    showBanner("model", "bad", `No emotion model: ${error.message}. You can still set the mood by hand.`);
  } else if (error.code === ERROR_CODE.MUSIC_UNAVAILABLE) {
    showBanner("music", "warn", "YouTube Music cannot be reached right now.", null,
      error.fallback_url ? { label: "Search it yourself ↗", url: error.fallback_url } : null);
  } else if (error.code !== ERROR_CODE.CAMERA_UNAVAILABLE) {
    const banner = showBanner(`error-${error.code}`, error.fatal ? "bad" : "warn", error.message);
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

buildBars();
buildOverrideChips();
wireControls();
showLive({ face: false, probabilities: null });
connect();
setInterval(showTimeline, 1000);
