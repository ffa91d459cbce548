// runner plugin `freeze-gate`: aborts a release that starts inside a change-freeze window.
//
// config (runner passes non-string TOML values as JSON text):
//   windows  list of windows, each either
//              {"start": "2026-12-24T00:00:00Z", "end": "2026-12-27T00:00:00Z", "reason": "holidays"}
//            or a weekly one, at a fixed UTC offset (default "Z"):
//              {"weekly": "Fri 18:00-Mon 08:00", "tz": "+08:00", "reason": "weekend"}
//            start is inclusive, end exclusive.
//   now      optional ISO timestamp that replaces the clock (for tests and rehearsals).
//
// A config it cannot read aborts too: a gate that cannot tell whether a freeze is on fails closed.
// (An abort stops the release whatever on_error says; on_error only covers a call that fails.)

import { log } from 'runner:plugin/host@0.1.0';

const NAME = 'freeze-gate';
const VERSION = '0.1.0';
const HOOKS = ['release-start', 'before-install'];
const MINUTES_PER_WEEK = 7 * 24 * 60;
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

export function describe() {
  return {
    name: NAME,
    version: VERSION,
    hooks: HOOKS,
    needs: { exec: [], dirs: [], http: [] },
  };
}

export function handle(event) {
  // Only gate steps that have not happened yet: never block an after-hook or a rollback.
  const gated =
    event.hook === 'release-start' || (event.phase === 'before' && event.step !== 'rollback');
  if (!gated) {
    log('debug', `${NAME}: ${event.hook} is not gated: proceed`);
    return { tag: 'proceed' };
  }
  let freeze;
  let now;
  try {
    const config = new Map(event.config);
    now = config.has('now') ? parseInstant(unwrapJson(config.get('now')), 'now') : new Date();
    freeze = activeFreeze(parseWindows(config.get('windows')), now);
  } catch (e) {
    const message = `${NAME}: bad config: ${e.message}`;
    log('error', message);
    return { tag: 'abort', val: message };
  }
  const at = now.toISOString();
  if (!freeze) {
    log('info', `${NAME}: no freeze window covers ${at}: proceed`);
    return { tag: 'proceed' };
  }
  const reason = `change freeze: ${freeze.reason} until ${freeze.until}`;
  const dry = event.dryRun ? ' (dry run)' : '';
  log('warn', `${NAME}: ${at} is inside a freeze window${dry}: abort: ${reason}`);
  return { tag: 'abort', val: reason };
}

/// The window covering `now` that ends last, as {reason, until}, or undefined.
function activeFreeze(windows, now) {
  let found;
  for (const w of windows) {
    const hit = w.covers(now);
    if (hit && (!found || hit.endsAt > found.endsAt)) found = hit;
  }
  return found;
}

function parseWindows(text) {
  if (text === undefined || text.trim() === '') return [];
  let raw;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`windows is not JSON: ${e.message}`);
  }
  if (!Array.isArray(raw)) raw = [raw];
  return raw.map((w, i) => {
    const where = `windows[${i}]`;
    if (w === null || typeof w !== 'object' || Array.isArray(w)) {
      throw new Error(`${where} is not a table`);
    }
    const reason = w.reason === undefined ? 'freeze window' : String(w.reason);
    if (w.weekly !== undefined) return weeklyWindow(w, reason, where);
    if (w.start !== undefined || w.end !== undefined) return fixedWindow(w, reason, where);
    throw new Error(`${where} has neither start/end nor weekly`);
  });
}

function fixedWindow(w, reason, where) {
  const start = parseInstant(w.start, `${where}.start`);
  const end = parseInstant(w.end, `${where}.end`);
  if (!(start < end)) throw new Error(`${where}: start ${asWritten(w.start)} is not before end ${asWritten(w.end)}`);
  return {
    covers: (now) =>
      start <= now && now < end ? { reason, until: asWritten(w.end), endsAt: end } : undefined,
  };
}

function weeklyWindow(w, reason, where) {
  const m = /^\s*(\w+)\s+(\d{1,2}):(\d{2})\s*-\s*(\w+)\s+(\d{1,2}):(\d{2})\s*$/.exec(String(w.weekly));
  if (!m) throw new Error(`${where}.weekly must look like "Fri 18:00-Mon 08:00", not ${JSON.stringify(w.weekly)}`);
  const from = minuteOfWeek(m[1], m[2], m[3], `${where}.weekly`);
  const to = minuteOfWeek(m[4], m[5], m[6], `${where}.weekly`);
  if (from === to) throw new Error(`${where}.weekly starts and ends at the same minute`);
  const tz = w.tz === undefined ? 'Z' : String(w.tz);
  const offset = parseOffset(tz, `${where}.tz`);
  return {
    covers: (now) => {
      const local = new Date(now.getTime() + offset * 60000);
      const t = local.getUTCDay() * 1440 + local.getUTCHours() * 60 + local.getUTCMinutes();
      // A window may wrap past Saturday midnight (Fri 18:00-Mon 08:00).
      const inside = from < to ? from <= t && t < to : t >= from || t < to;
      if (!inside) return undefined;
      const minutesLeft = (to - t + MINUTES_PER_WEEK) % MINUTES_PER_WEEK;
      const endLocal = new Date(local.getTime() + minutesLeft * 60000);
      endLocal.setUTCSeconds(0, 0);
      const endsAt = new Date(endLocal.getTime() - offset * 60000);
      return { reason, until: formatLocal(endLocal, tz), endsAt };
    },
  };
}

function minuteOfWeek(day, hours, minutes, where) {
  const d = DAYS.indexOf(day.slice(0, 3).toLowerCase());
  const full = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
  if (d < 0 || (day.length > 3 && full[d] !== day.toLowerCase())) {
    throw new Error(`${where}: unknown day ${JSON.stringify(day)} (use Mon..Sun)`);
  }
  const h = Number(hours);
  const min = Number(minutes);
  if (h > 24 || min > 59 || (h === 24 && min !== 0)) {
    throw new Error(`${where}: bad time ${hours}:${minutes}`);
  }
  return (d * 1440 + h * 60 + min) % MINUTES_PER_WEEK;
}

/// "+08:00" / "-05:30" / "Z" → minutes east of UTC.
function parseOffset(tz, where) {
  if (/^(z|utc|[+-]00:?00)$/i.test(tz)) return 0;
  const m = /^([+-])(\d{2}):?(\d{2})$/.exec(tz);
  if (!m || Number(m[2]) > 23 || Number(m[3]) > 59) {
    throw new Error(`${where} must be a fixed UTC offset like "+08:00", not ${JSON.stringify(tz)}`);
  }
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

// An unquoted TOML datetime is not a string, so runner passes it as JSON, in the toml crate's
// serde form: {"$__toml_private_datetime": "2026-12-24T00:00:00Z"}.
const TOML_DATETIME = '$__toml_private_datetime';

function unwrapJson(text) {
  if (!text.trimStart().startsWith('{')) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function asWritten(value) {
  return value !== null && typeof value === 'object' && TOML_DATETIME in value ? value[TOML_DATETIME] : value;
}

/// An ISO-8601 instant. A date-time needs "Z" or an offset: the sandbox has no local time zone.
function parseInstant(raw, where) {
  const value = asWritten(raw);
  if (typeof value !== 'string') throw new Error(`${where} must be an ISO timestamp string`);
  const s = value.trim();
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(s);
  if (!dateOnly && !/(z|[+-]\d{2}:?\d{2})$/i.test(s)) {
    throw new Error(`${where}: ${JSON.stringify(value)} needs a "Z" or "+hh:mm" offset`);
  }
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) throw new Error(`${where}: ${JSON.stringify(value)} is not an ISO timestamp`);
  return d;
}

/// A time already shifted to the window's offset, written with that offset: 2026-12-28T08:00+08:00.
function formatLocal(local, tz) {
  const iso = local.toISOString().slice(0, 16);
  return /^(z|utc|[+-]00:?00)$/i.test(tz) ? `${iso}Z` : `${iso}${tz}`;
}
