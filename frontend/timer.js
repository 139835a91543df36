// Timer values in our diagrams are Python expressions, usually a quoted ISO 8601 string ("P3D"):
// the literal inside the quotes is checked and described; anything else is computed when reached.
import { t } from './i18n.js';

const DURATION = /^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

const UNITS = [ 'year', 'month', 'week', 'day', 'hour', 'minute', 'second' ];

export function literalOf(expression) {
  const match = /^\s*(["'])(.*)\1\s*$/.exec(expression || '');
  return match ? match[2] : null;
}

function unitText(unit, count) {
  const english = { year: 'year', month: 'month', week: 'week', day: 'day', hour: 'hour', minute: 'minute', second: 'second' }[unit];
  return count === 1
    ? `${count} ${t(`timer.unit.${unit}`, english)}`
    : `${count} ${t(`timer.unit.${unit}s`, english + 's')}`;
}

export function describeDuration(value) {
  const match = DURATION.exec(value);
  if (!match) return null;
  const parts = match.slice(1).map((part, i) => (part ? unitText(UNITS[i], Number(part)) : null)).filter(Boolean);
  return parts.join(' ');
}

export function describeDate(value) {
  const match = DATE_TIME.exec(value);
  if (!match) return null;
  const [ , y, mo, d, h, mi, , zone ] = match;
  if (Number(mo) < 1 || Number(mo) > 12 || Number(d) < 1 || Number(d) > 31 || Number(h) > 23 || Number(mi) > 59) return null;
  return `${y}-${mo}-${d} ${h}:${mi} ${zone === 'Z' ? 'UTC' : zone}`;
}

function describeCycle(value) {
  const parts = value.split('/');
  const repeat = /^R(\d*)$/.exec(parts[0] || '');
  if (!repeat || parts.length < 2 || parts.length > 3) return null;
  let start = null;
  let every = null;
  for (const part of parts.slice(1)) {
    if (part.startsWith('P')) every = describeDuration(part);
    else start = describeDate(part);
    if (!every && !start) return null;
  }
  if (!every) return null;
  const times = repeat[1] === '' ? t('timer.forever', 'without end') : t('timer.times', '{count} times', { count: repeat[1] });
  const text = t('timer.every', 'every {interval}, {times}', { interval: every, times });
  return start ? `${text}, ${t('timer.starting', 'starting on {date}', { date: start })}` : text;
}

// Returns {ok, literal, text}: ok=false means the literal is not valid for the chosen type.
export function checkTimer(type, expression) {
  if (!expression || !expression.trim()) return { ok: false, text: t('timer.empty', 'No value yet.') };
  const literal = literalOf(expression);
  if (literal === null) {
    return { ok: true, literal: null, text: t('timer.computed', 'Computed when reached: the expression must give an ISO 8601 value.') };
  }
  if (type === 'timeDuration') {
    const text = describeDuration(literal);
    return text
      ? { ok: true, literal, text: t('timer.after', '{interval} after the event is reached', { interval: text }) }
      : { ok: false, literal, text: t('timer.badDuration', 'Not an ISO 8601 duration such as "P3D" or "PT2H30M".') };
  }
  if (type === 'timeDate') {
    const text = describeDate(literal);
    return text
      ? { ok: true, literal, text: t('timer.on', 'on {date}', { date: text }) }
      : { ok: false, literal, text: t('timer.badDate', 'Not an ISO 8601 date-time with an offset such as "2027-01-09T10:00:00+05:00".') };
  }
  const text = describeCycle(literal);
  return text
    ? { ok: true, literal, text }
    : { ok: false, literal, text: t('timer.badCycle', 'Not an ISO 8601 cycle such as "R5/P1D".') };
}
