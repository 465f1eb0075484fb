// The mood journal on the options page: a day's timeline, a week of time per mood, what played,
// and the listener's controls over what is kept. It asks the host on a native port of its own
// (a second host process that never opens the camera), so nothing goes through the worker and
// nothing leaves the computer. That host starts only when the journal is asked for (the popup's
// link opens options.html#journal), not whenever the settings are opened.

import {
  command,
  EMOTIONS,
  EVENT,
  HOST_FORBIDDEN,
  HOST_NAME,
  HOST_NOT_FOUND,
  MOOD_LOOKS,
  notice,
  POPUP_ACTION,
} from './protocol.js';
import { loadProfileId } from './profile.js';

const $ = (id) => document.getElementById(id);
const DAY_S = 86400;
const WEEK_DAYS = 7;

let port = null;
let journal = null;
let exportParts = [];
let note = null; // what the listener's last action did, shown until the next one

const label = (emotion) => MOOD_LOOKS[emotion]?.name ?? emotion;
const clock = (at) =>
  new Date(at * 1000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

function minutes(seconds) {
  const total = Math.round(seconds / 60);
  if (total < 60) return `${total} min`;
  return `${Math.floor(total / 60)} h ${String(total % 60).padStart(2, '0')} min`;
}

function startOfDay(date) {
  const day = new Date(date);
  day.setHours(0, 0, 0, 0);
  return day.getTime() / 1000;
}

// The seconds of each mood inside [from, to).
function timePerMood(moods, from, to) {
  const totals = Object.fromEntries(EMOTIONS.map((emotion) => [emotion, 0]));
  for (const mood of moods) {
    const overlap = Math.min(mood.end, to) - Math.max(mood.start, from);
    if (overlap > 0) totals[mood.emotion] += overlap;
  }
  return totals;
}

function status(text) {
  $('journal-status').textContent = text;
  $('journal-status').hidden = !text;
}

function send(message) {
  if (port) port.postMessage(message);
}

function askForWeek() {
  const day = $('journal-day').valueAsDate ?? new Date();
  const local = new Date(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate());
  const until = startOfDay(local) + DAY_S;
  send(command.getJournal(until - WEEK_DAYS * DAY_S, until));
}

function chosenDay() {
  const day = $('journal-day').valueAsDate ?? new Date();
  return startOfDay(new Date(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate()));
}

function renderDay() {
  const from = chosenDay();
  const to = from + DAY_S;
  const today = startOfDay(new Date());
  $('day-heading').textContent =
    from === today ? 'Today' : new Date(from * 1000).toLocaleDateString([], { dateStyle: 'full' });
  const segments = journal.moods
    .filter((mood) => mood.end > from && mood.start < to)
    .map((mood) => {
      const start = Math.max(mood.start, from);
      const end = Math.max(Math.min(mood.end, to), start + 1);
      const segment = document.createElement('span');
      segment.className = 'segment';
      segment.setAttribute('role', 'listitem');
      segment.style.left = `${((start - from) / DAY_S) * 100}%`;
      // A mood of a few seconds is still drawn as a sliver that can be pointed at.
      segment.style.width = `max(2px, ${((end - start) / DAY_S) * 100}%)`;
      segment.style.background = MOOD_LOOKS[mood.emotion]?.colour ?? '#999';
      const how = mood.source === 'hand' ? 'set by hand' : 'from the camera';
      segment.title = `${label(mood.emotion)} ${clock(start)}–${clock(end)} (${how})`;
      segment.setAttribute('aria-label', segment.title);
      return segment;
    });
  $('day-timeline').replaceChildren(...segments);
  $('day-timeline').dataset.empty = String(segments.length === 0);

  const tracks = journal.tracks.filter((track) => track.at >= from && track.at < to);
  $('day-tracks').replaceChildren(
    ...tracks.map((track) => {
      const item = document.createElement('li');
      const time = document.createElement('span');
      time.className = 'muted';
      time.textContent = clock(track.at);
      const title = document.createElement('span');
      title.className = 'title';
      title.textContent = track.title || track.video_id;
      const detail = document.createElement('span');
      detail.className = 'muted';
      const artists = track.artists.length ? `${track.artists.join(', ')} · ` : '';
      detail.textContent = `${artists}for ${label(track.emotion).toLowerCase()}`;
      item.append(time, title, detail);
      return item;
    }),
  );
  $('day-tracks-empty').hidden = tracks.length > 0;
}

function renderWeek() {
  const last = chosenDay();
  const days = [];
  let longest = 1;
  for (let back = WEEK_DAYS - 1; back >= 0; back -= 1) {
    const from = last - back * DAY_S;
    const totals = timePerMood(journal.moods, from, from + DAY_S);
    const sum = Object.values(totals).reduce((a, b) => a + b, 0);
    longest = Math.max(longest, sum);
    days.push({ from, totals, sum });
  }
  $('week-chart').replaceChildren(
    ...days.map(({ from, totals, sum }) => {
      const day = document.createElement('div');
      day.className = 'day';
      day.setAttribute('role', 'listitem');
      const name = new Date(from * 1000).toLocaleDateString([], { weekday: 'short' });
      const parts = EMOTIONS.filter((emotion) => totals[emotion] > 0);
      day.setAttribute(
        'aria-label',
        `${name}: ${parts.map((e) => `${label(e)} ${minutes(totals[e])}`).join(', ') || 'nothing'}`,
      );
      const bar = document.createElement('div');
      bar.className = 'bar';
      bar.style.height = `${(sum / longest) * 100}%`;
      for (const emotion of parts) {
        const piece = document.createElement('span');
        piece.style.flexGrow = String(totals[emotion]);
        piece.style.background = MOOD_LOOKS[emotion].colour;
        piece.title = `${label(emotion)}: ${minutes(totals[emotion])}`;
        bar.append(piece);
      }
      const caption = document.createElement('span');
      caption.className = 'muted';
      caption.textContent = name;
      const holder = document.createElement('div');
      holder.className = 'bar-holder';
      holder.append(bar);
      day.append(holder, caption);
      return day;
    }),
  );
  $('week-legend').replaceChildren(
    ...EMOTIONS.map((emotion) => {
      const item = document.createElement('li');
      const swatch = document.createElement('span');
      swatch.className = 'swatch';
      swatch.style.background = MOOD_LOOKS[emotion].colour;
      item.append(swatch, label(emotion));
      return item;
    }),
  );
}

function render() {
  $('journal-body').hidden = false;
  const empty = journal.moods.length === 0 && journal.tracks.length === 0;
  const nothing = 'Nothing in the journal yet: moods appear here once the camera has read one.';
  status(note ?? (empty ? nothing : ''));
  $('retention').value = String(journal.retention_days);
  renderDay();
  renderWeek();
}

function download(text) {
  const stamp = new Date().toISOString().slice(0, 10);
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
  link.download = `moodtune-journal-${stamp}.csv`;
  document.body.append(link);
  link.click();
  link.remove();
}

function onHostMessage(message) {
  switch (message.type) {
    case EVENT.HELLO:
      // This host serves only this page: it must know whose journal to show before it is asked.
      loadProfileId().then((profileId) => {
        send(command.setProfile(profileId));
        askForWeek();
      });
      break;
    case EVENT.JOURNAL:
      journal = message;
      render();
      break;
    case EVENT.JOURNAL_EXPORT:
      exportParts[message.part] = message.csv;
      if (message.part === message.parts - 1) {
        download(exportParts.join(''));
        exportParts = [];
        note = 'Exported.';
        status(note);
      }
      break;
    case EVENT.JOURNAL_DELETED:
      // The host that watches the camera still holds the calibration in memory: forget it too.
      chrome.runtime.sendMessage({ action: POPUP_ACTION.RESET_CALIBRATION });
      note = 'Deleted. The journal starts again from your next mood.';
      status(note);
      askForWeek();
      break;
    case EVENT.ERROR:
      if (message.code === 'journal_error' || message.code === 'bad_field') {
        const words = notice(message.code);
        status(words ? `${words.title}. ${words.text}` : message.message);
      }
      break;
    default:
  }
}

function connect() {
  if (port) return;
  $('journal-open').hidden = true;
  status('Opening the journal…');
  port = chrome.runtime.connectNative(HOST_NAME);
  port.onMessage.addListener(onHostMessage);
  port.onDisconnect.addListener(() => {
    const reason = chrome.runtime.lastError?.message ?? '';
    port = null;
    const key = reason.includes(HOST_NOT_FOUND) ? 'not_installed'
      : reason.includes(HOST_FORBIDDEN) ? 'forbidden' : 'disconnected';
    const words = notice(key);
    status(`${words.title}. ${words.text}`);
    $('journal-open').hidden = false;
    $('journal-open').textContent = 'Try again';
  });
}

$('journal-day').valueAsDate = new Date(Date.UTC(
  new Date().getFullYear(), new Date().getMonth(), new Date().getDate(),
));
$('journal-day').addEventListener('change', askForWeek);
$('retention').addEventListener('change', (event) => {
  send(command.setRetention(Number(event.target.value)));
  note = `The journal now keeps ${event.target.selectedOptions[0].text}.`;
});
$('export-journal').addEventListener('click', () => {
  exportParts = [];
  send(command.exportJournal());
});
$('delete-journal').addEventListener('click', () => {
  $('delete-confirm').hidden = false;
});
$('delete-cancel').addEventListener('click', () => {
  $('delete-confirm').hidden = true;
});
$('delete-for-good').addEventListener('click', () => {
  $('delete-confirm').hidden = true;
  send(command.deleteJournal());
});
$('journal-open').addEventListener('click', connect);
if (window.location.hash === '#journal') connect();
window.addEventListener('hashchange', () => {
  if (window.location.hash === '#journal') connect();
});
