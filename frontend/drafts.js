// Drafts are saved a few seconds after the last change, and once more when the page is left.
import { t } from './i18n.js';

const DELAY = 3000;
// Browsers refuse keepalive requests with bodies over 64 KiB; larger drafts go out as ordinary requests.
const KEEPALIVE_LIMIT = 60000;

function timeOf(date) {
  return date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

export function formatSince(since) {
  const date = new Date(since);
  return Number.isNaN(date.getTime()) ? since : date.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
}

function localKeyOf(config) {
  return `workflow-editor-draft:${config.model_id || 'new'}:${config.main_file}`;
}

// A new model has no server draft until its first deploy: its draft lives in this browser.
export function readLocalDraft(config) {
  if (config.urls.draft) return null;
  try {
    const kept = JSON.parse(localStorage.getItem(localKeyOf(config)) || 'null');
    return kept && kept.files && kept.files[config.main_file] ? kept : null;
  } catch (err) {
    return null;
  }
}

export function createDrafts({ config, api, status, collect, snapshot }) {
  const localKey = localKeyOf(config);
  let timer = null;
  let dirty = false;
  let saving = null;

  function show(text, isError) {
    status.textContent = text;
    status.classList.toggle('draft-error', Boolean(isError));
  }

  async function save(options = {}) {
    clearTimeout(timer);
    timer = null;
    if (saving) await saving.catch(() => {});
    dirty = false;
    const files = options.keepalive ? snapshot() : await collect();
    saving = (async () => {
      try {
        if (!config.urls.draft) {
          localStorage.setItem(localKey, JSON.stringify({ files, saved_at: new Date().toISOString() }));
          show(t('draft.savedLocal', 'Draft kept in this browser {time}', { time: timeOf(new Date()) }));
          return;
        }
        const size = JSON.stringify(files).length;
        const { body } = await api.saveDraft(files, { keepalive: Boolean(options.keepalive) && size < KEEPALIVE_LIMIT });
        const at = body.saved_at ? new Date(body.saved_at) : new Date();
        show(t('draft.saved', 'Draft saved {time}', { time: timeOf(Number.isNaN(at.getTime()) ? new Date() : at) }));
      } catch (err) {
        dirty = true;
        show(t('draft.failed', 'Draft not saved: {message}', { message: err.message }), true);
        throw err;
      }
    })();
    return saving;
  }

  function changed() {
    dirty = true;
    show(t('draft.unsaved', 'Unsaved changes'));
    clearTimeout(timer);
    timer = setTimeout(() => save().catch(() => {}), DELAY);
  }

  function leaving() {
    if (dirty) save({ keepalive: true }).catch(() => {});
  }

  window.addEventListener('pagehide', leaving);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') leaving();
  });

  async function discard() {
    clearTimeout(timer);
    dirty = false;
    localStorage.removeItem(localKey);
    if (config.urls.draft) await api.discardDraft();
  }

  return {
    changed,
    save,
    discard,
    forgetLocal: () => localStorage.removeItem(localKey),
    isDirty: () => dirty
  };
}
