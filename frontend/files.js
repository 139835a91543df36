// The model's files as tabs: the diagram, form files in CodeMirror, decision tables in dmn-js.
import { jsonEditor } from './codeeditor.js';
import { t } from './i18n.js';
import { createFormPreview } from './preview.js';

export const FORM_SUFFIXES = [ '.schema.json', '.uischema.json', '.rules.json', '.translations.json' ];

export function kindOf(name, mainFile) {
  if (name === mainFile || name.endsWith('.bpmn')) return 'bpmn';
  if (name.endsWith('.dmn')) return 'dmn';
  if (name.endsWith('.json')) return 'json';
  return 'text';
}

function byKind(mainFile) {
  const rank = { bpmn: 0, json: 1, dmn: 2, text: 3 };
  return (a, b) => (a === mainFile ? -1 : b === mainFile ? 1 : rank[kindOf(a, mainFile)] - rank[kindOf(b, mainFile)] || a.localeCompare(b));
}

export function createFiles({ initial, mainFile, tabs, panes, api, lang, onChange, onShowDiagram }) {
  const store = { ...initial };
  const editors = {};
  const dmnEditors = {};
  let current = mainFile;
  let dmnModule = null;
  const preview = createFormPreview({ container: panes.preview, api, lang, store });

  function renderTabs() {
    tabs.replaceChildren();
    for (const name of Object.keys(store).sort(byKind(mainFile))) {
      const tab = document.createElement('button');
      tab.type = 'button';
      tab.role = 'tab';
      tab.dataset.file = name;
      tab.className = `file-tab file-tab-${kindOf(name, mainFile)}`;
      tab.setAttribute('aria-selected', String(name === current));
      tab.textContent = name === mainFile ? `${name} (${t('files.diagram', 'diagram')})` : name;
      tab.addEventListener('click', () => open(name));
      tabs.append(tab);
    }
  }

  function showPane(kind) {
    for (const [ key, pane ] of Object.entries(panes)) {
      if (key === 'preview') continue;
      pane.hidden = key !== kind;
    }
  }

  function openJson(name) {
    showPane('json');
    for (const [ other, editor ] of Object.entries(editors)) editor.dom.parentNode.hidden = other !== name;
    if (!editors[name]) {
      const host = document.createElement('div');
      host.className = 'json-editor';
      host.dataset.file = name;
      panes.json.querySelector('.json-editors').append(host);
      editors[name] = jsonEditor(host, store[name], text => {
        store[name] = text;
        onChange(name);
        preview.changed(name);
      }, { metaValidate: name.endsWith('.schema.json'), label: name });
    }
    editors[name].dom.parentNode.hidden = false;
    preview.show(name);
  }

  async function openDmn(name) {
    showPane('dmn');
    for (const [ other, editor ] of Object.entries(dmnEditors)) editor.container.hidden = other !== name;
    if (!dmnEditors[name]) {
      const container = document.createElement('div');
      container.className = 'dmn-editor';
      container.dataset.file = name;
      panes.dmn.append(container);
      dmnModule = dmnModule || await import('./dmn.js');
      dmnEditors[name] = await dmnModule.openDmn(container, store[name], xml => {
        store[name] = xml;
        onChange(name);
      });
    }
    dmnEditors[name].container.hidden = false;
  }

  async function open(name) {
    if (!(name in store)) return;
    current = name;
    renderTabs();
    const kind = kindOf(name, mainFile);
    if (kind === 'bpmn') {
      showPane('bpmn');
      onShowDiagram();
    } else if (kind === 'dmn') {
      await openDmn(name);
    } else {
      openJson(name);
    }
  }

  function add(name, text) {
    store[name] = text;
    renderTabs();
    onChange(name);
  }

  function uniqueName(base, suffix) {
    let name = base;
    for (let i = 2; `${name}${suffix}` in store; i++) name = `${base}_${i}`;
    return name;
  }

  // Form files are created as a pair so that the task refers to both at once.
  function newForm(base) {
    const name = uniqueName(base.replace(/[^A-Za-z0-9_-]+/g, '_').toLowerCase(), '.schema.json');
    store[`${name}.uischema.json`] = '{}\n';
    add(`${name}.schema.json`, JSON.stringify({
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      properties: {}
    }, null, 2) + '\n');
    onChange(`${name}.uischema.json`);
    open(`${name}.schema.json`);
    return name;
  }

  async function newDmn(base) {
    const name = uniqueName(base.replace(/[^A-Za-z0-9_-]+/g, '_'), '.dmn');
    dmnModule = dmnModule || await import('./dmn.js');
    add(`${name}.dmn`, dmnModule.emptyDecision(name));
    await open(`${name}.dmn`);
    return name;
  }

  // DMN editors write back on every change, so the store is current except for the diagram.
  async function flush() {
    for (const [ name, editor ] of Object.entries(dmnEditors)) store[name] = await editor.saveXML();
  }

  function decisionIds() {
    const ids = [];
    for (const [ name, text ] of Object.entries(store)) {
      if (!name.endsWith('.dmn')) continue;
      for (const match of text.matchAll(/<(?:\w+:)?decision\s[^>]*?\bid="([^"]+)"/g)) ids.push(match[1]);
    }
    return ids;
  }

  renderTabs();

  return {
    store,
    open,
    add,
    newForm,
    newDmn,
    flush,
    decisionIds,
    current: () => current,
    names: () => Object.keys(store),
    setLang: value => preview.setLang(value)
  };
}
