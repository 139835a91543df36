import { t } from './i18n.js';

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [ key, value ] of Object.entries(attrs)) {
    if (key === 'text') node.textContent = value;
    else if (value === true) node.setAttribute(key, '');
    else if (value !== false && value != null) node.setAttribute(key, value);
  }
  node.append(...children.filter(Boolean));
  return node;
}

export function buildLayout(root) {
  const button = (id, key, english, extra = {}) => el('button', { type: 'button', id, class: 'editor-button', text: t(key, english), ...extra });
  const toolbar = el('div', { class: 'editor-toolbar', role: 'toolbar', 'aria-label': t('editor.toolbar', 'Editor actions') },
    button('validate-button', 'editor.validate', 'Validate'),
    button('deploy-button', 'editor.deploy', 'Deploy…', { class: 'editor-button editor-primary' }),
    button('new-form-button', 'editor.newForm', 'New form'),
    button('new-dmn-button', 'editor.newDmn', 'New DMN table'),
    button('discard-button', 'editor.discard', 'Discard draft'),
    el('span', { id: 'draft-status', class: 'draft-status', role: 'status', 'aria-live': 'polite' }));
  const notices = el('div', { class: 'editor-notices' });
  const tabs = el('nav', { id: 'file-tabs', class: 'file-tabs', role: 'tablist', 'aria-label': t('editor.files', 'Files of the model') });

  const canvas = el('div', { id: 'canvas', class: 'editor-canvas' });
  const properties = el('div', { id: 'properties', class: 'editor-properties' });
  const bpmnPane = el('section', { class: 'editor-pane editor-pane-bpmn' }, canvas, properties);

  const previewPane = el('aside', { class: 'form-preview-pane', hidden: true },
    el('div', { class: 'form-preview-tools' },
      el('label', { for: 'preview-lang', text: t('preview.lang', 'Language') }),
      el('select', { id: 'preview-lang' },
        el('option', { value: 'kk', text: 'қазақша' }),
        el('option', { value: 'ru', text: 'русский' }),
        el('option', { value: 'en', text: 'English' })),
      el('button', { type: 'button', id: 'try-submit', class: 'editor-button', text: t('preview.trySubmit', 'Try submit') })),
    el('div', { class: 'preview-status', role: 'status', 'aria-live': 'polite' }),
    el('ul', { class: 'preview-errors' }),
    el('div', { id: 'form-preview', class: 'form-preview' }));
  const jsonPane = el('section', { class: 'editor-pane editor-pane-json', hidden: true },
    el('div', { class: 'json-editors' }), previewPane);
  const dmnPane = el('section', { class: 'editor-pane editor-pane-dmn', hidden: true });

  const problemsList = el('ul', { id: 'problems', class: 'problems-list' });
  const problemsSection = el('section', { class: 'editor-problems', 'aria-labelledby': 'problems-heading' },
    el('h2', { id: 'problems-heading', text: t('problems.title', 'Problems') }), problemsList);

  const dialog = el('dialog', { id: 'deploy-dialog', class: 'editor-dialog', 'aria-labelledby': 'deploy-heading' },
    el('h2', { id: 'deploy-heading', text: t('deploy.title', 'Deploy a new version') }),
    el('label', { for: 'deploy-comment', text: t('deploy.comment', 'What changed and why (required)') }),
    el('textarea', { id: 'deploy-comment', rows: 4, required: true }),
    el('p', { class: 'deploy-message', role: 'status', 'aria-live': 'polite' }),
    el('div', { class: 'dialog-buttons' },
      el('button', { type: 'button', id: 'deploy-confirm', class: 'editor-button editor-primary', text: t('deploy.confirm', 'Deploy') }),
      el('button', { type: 'button', class: 'editor-button deploy-cancel', text: t('dialog.cancel', 'Cancel') })));

  const nameDialog = el('dialog', { id: 'new-file-dialog', class: 'editor-dialog', 'aria-labelledby': 'new-file-heading' },
    el('h2', { id: 'new-file-heading' }),
    el('label', { for: 'new-file-name', text: t('files.name', 'Name (letters, digits, _)') }),
    el('input', { id: 'new-file-name', type: 'text', pattern: '[A-Za-z0-9_-]+' }),
    el('div', { class: 'dialog-buttons' },
      el('button', { type: 'button', id: 'new-file-confirm', class: 'editor-button editor-primary', text: t('files.create', 'Create') }),
      el('button', { type: 'button', class: 'editor-button new-file-cancel', text: t('dialog.cancel', 'Cancel') })));

  root.classList.add('editor-app');
  root.replaceChildren(toolbar, notices, tabs,
    el('div', { class: 'editor-main' }, bpmnPane, jsonPane, dmnPane), problemsSection, dialog, nameDialog);

  return {
    notices, tabs, canvas, properties, problemsList, dialog, nameDialog,
    panes: { bpmn: bpmnPane, json: jsonPane, dmn: dmnPane, preview: previewPane },
    buttons: Object.fromEntries([ 'validate', 'deploy', 'new-form', 'new-dmn', 'discard' ]
      .map(name => [ name, root.querySelector(`#${name}-button`) ]))
  };
}

// Resolves with the typed name, or null when cancelled.
export function askName(dialog, title, suggestion) {
  const input = dialog.querySelector('#new-file-name');
  dialog.querySelector('#new-file-heading').textContent = title;
  input.value = suggestion;
  return new Promise(resolve => {
    const done = value => {
      dialog.querySelector('#new-file-confirm').onclick = null;
      dialog.querySelector('.new-file-cancel').onclick = null;
      dialog.close();
      resolve(value);
    };
    dialog.querySelector('#new-file-confirm').onclick = () => {
      const value = input.value.trim();
      if (/^[A-Za-z0-9_-]+$/.test(value)) done(value);
      else input.focus();
    };
    dialog.querySelector('.new-file-cancel').onclick = () => done(null);
    dialog.showModal();
    input.select();
  });
}
