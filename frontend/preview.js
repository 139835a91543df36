// The server renders the form exactly as staff will see it; this pane only shows that rendering.
import { t } from './i18n.js';

export function createFormPreview({ container, api, lang, store }) {
  const languageSelect = container.querySelector('#preview-lang');
  const target = container.querySelector('#form-preview');
  const status = container.querySelector('.preview-status');
  const errorsList = container.querySelector('.preview-errors');
  const trySubmit = container.querySelector('#try-submit');
  let schemaName = null;
  let timer = null;
  let sequence = 0;

  languageSelect.value = lang;

  function schemaFor(name) {
    if (name.endsWith('.schema.json')) return name;
    if (name.endsWith('.uischema.json')) return name.replace(/\.uischema\.json$/, '.schema.json');
    return null;
  }

  function showErrors(errors) {
    errorsList.replaceChildren();
    for (const error of errors || []) {
      const item = document.createElement('li');
      item.dataset.field = error.field || '';
      item.textContent = error.field ? `${error.field}: ${error.message}` : error.message;
      errorsList.append(item);
    }
  }

  function readData() {
    const form = target.querySelector('form');
    const data = {};
    if (!form) return data;
    for (const [ key, value ] of new FormData(form).entries()) {
      if (typeof value !== 'string') continue;
      if (key in data) data[key] = [].concat(data[key], value);
      else data[key] = value;
    }
    return data;
  }

  async function render(submit) {
    if (!schemaName || !(schemaName in store)) return;
    const mine = ++sequence;
    const uiName = schemaName.replace(/\.schema\.json$/, '.uischema.json');
    status.textContent = t('preview.loading', 'Updating preview…');
    try {
      const { body } = await api.preview({
        schema: store[schemaName],
        ui_schema: uiName in store ? store[uiName] : null,
        data: submit ? readData() : {},
        lang: languageSelect.value,
        submit: Boolean(submit)
      });
      if (mine !== sequence) return;
      // The markup is the server's own rendering of the form, escaped there like every page.
      target.innerHTML = body.html || '';
      showErrors(body.errors);
      status.textContent = submit
        ? (body.errors && body.errors.length
          ? t('preview.submitErrors', 'The server refused the data:')
          : t('preview.submitOk', 'The server accepted the data.'))
        : '';
    } catch (err) {
      if (mine !== sequence) return;
      status.textContent = t('preview.failed', 'Preview failed: {message}', { message: err.message });
    }
  }

  target.addEventListener('submit', event => event.preventDefault());
  languageSelect.addEventListener('change', () => render(false));
  trySubmit.addEventListener('click', () => render(true));

  return {
    show(name) {
      schemaName = schemaFor(name);
      container.hidden = !schemaName;
      if (schemaName) render(false);
    },
    changed(name) {
      if (schemaFor(name) !== schemaName) return;
      clearTimeout(timer);
      timer = setTimeout(() => render(false), 300);
    },
    setLang(value) {
      languageSelect.value = value;
    }
  };
}
