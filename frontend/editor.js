import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn.css';
import '@bpmn-io/properties-panel/assets/properties-panel.css';
import 'bpmn-js-bpmnlint/dist/assets/css/bpmn-js-bpmnlint.css';
import './editor.css';

import BpmnModeler from 'bpmn-js/lib/Modeler';
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from 'bpmn-js-properties-panel';
import LintModule from 'bpmn-js-bpmnlint';
import lintConfig from 'virtual:bpmnlint-config';
import spiffDescriptor from './spiffworkflow.json';
import { createApi } from './api.js';
import { createDeploy } from './deploy.js';
import { createDrafts, formatSince, readLocalDraft } from './drafts.js';
import { createFiles } from './files.js';
import { readJsonScript, setTexts, t } from './i18n.js';
import { askName, buildLayout } from './layout.js';
import { createProblems } from './problems.js';
import { flushPanelWrites } from './spiff-entries.js';
import { SpiffPropertiesProviderModule } from './spiff-properties.js';
import { LoopDataRefsModule } from './spiff-model.js';

const HIGHLIGHT = 'problem-highlight';

async function start() {
  const config = readJsonScript('editor-config');
  const root = document.getElementById('editor-app');
  if (!config || !root) return;
  setTexts(config.texts);
  const api = createApi(config);
  const ui = buildLayout(root);
  const mainFile = config.main_file;
  let highlighted = null;
  let modeler = null;

  const problems = createProblems(ui.problemsList, { onSelect: problem => selectProblem(problem) });

  let drafts = null;
  const restored = readLocalDraft(config);

  const files = createFiles({
    initial: restored ? restored.files : config.files,
    mainFile,
    tabs: ui.tabs,
    panes: ui.panes,
    api,
    lang: config.lang || 'kk',
    onChange: () => drafts && drafts.changed(),
    onShowDiagram: () => modeler && modeler.get('canvas').resized()
  });

  async function collect() {
    flushPanelWrites();
    const { xml } = await modeler.saveXML({ format: true });
    files.store[mainFile] = xml;
    await files.flush();
    return { ...files.store };
  }

  drafts = createDrafts({ config, api, status: document.getElementById('draft-status'), collect, snapshot: () => ({ ...files.store }) });

  modeler = new BpmnModeler({
    container: ui.canvas,
    propertiesPanel: { parent: ui.properties },
    additionalModules: [
      LoopDataRefsModule,
      BpmnPropertiesPanelModule,
      BpmnPropertiesProviderModule,
      SpiffPropertiesProviderModule,
      LintModule
    ],
    moddleExtensions: { spiffworkflow: spiffDescriptor },
    linting: { bpmnlint: lintConfig, active: true },
    spiffEditor: {
      groups: config.groups || [],
      processes: config.processes || [],
      fileNames: () => files.names(),
      decisionIds: () => files.decisionIds(),
      newForm: taskId => files.newForm(`${config.model_id || 'form'}_${taskId.replace(/^(Task|Activity)_/, '')}`)
    }
  });

  // Before the panel shows the next element: what was typed for the previous one is written to it
  // while the panel still shows it (a write after the switch re-renders the panel with the old one).
  modeler.on('selection.changed', 2000, () => flushPanelWrites());
  modeler.on('linting.completed', ({ issues }) => problems.setLint(issues, mainFile));
  modeler.on('commandStack.changed', async () => {
    const { xml } = await modeler.saveXML({ format: true });
    files.store[mainFile] = xml;
    drafts.changed();
  });

  function clearHighlight() {
    if (highlighted && modeler.get('elementRegistry').get(highlighted)) modeler.get('canvas').removeMarker(highlighted, HIGHLIGHT);
    highlighted = null;
  }

  async function selectProblem(problem) {
    clearHighlight();
    if (problem.file && problem.file !== mainFile) {
      await files.open(problem.file);
      return;
    }
    await files.open(mainFile);
    const element = problem.element_id && modeler.get('elementRegistry').get(problem.element_id);
    if (!element) return;
    const canvas = modeler.get('canvas');
    modeler.get('selection').select(element);
    canvas.scrollToElement(element);
    canvas.addMarker(element.id, HIGHLIGHT);
    highlighted = element.id;
  }

  async function validate() {
    ui.buttons.validate.disabled = true;
    try {
      const { body } = await api.validate(await collect());
      problems.setServer(body.problems || [], body.warnings || []);
      showNotice('validate', body.valid
        ? t('validate.ok', 'The server found the model valid.')
        : t('validate.bad', 'The server found problems: see the list below.'), !body.valid);
      return body;
    } catch (err) {
      if (err.status === 422 && err.body.details) problems.setServer(err.body.details, []);
      showNotice('validate', t('validate.failed', 'Validation failed: {message}', { message: err.message }), true);
      throw err;
    } finally {
      ui.buttons.validate.disabled = false;
    }
  }

  function showNotice(key, text, isError) {
    let notice = ui.notices.querySelector(`[data-notice="${key}"]`);
    if (!notice) {
      notice = document.createElement('p');
      notice.dataset.notice = key;
      ui.notices.append(notice);
    }
    notice.className = `editor-notice${isError ? ' editor-notice-error' : ''}`;
    notice.textContent = text;
  }

  if (config.draft) {
    showNotice('draft', t('draft.yours', 'Your draft from {since}', { since: formatSince(config.draft.since) }));
  } else if (restored) {
    showNotice('draft', t('draft.local', 'Your draft kept in this browser from {since}', { since: formatSince(restored.saved_at) }));
  }
  for (const [ i, other ] of (config.others_drafts || []).entries()) {
    showNotice(`other-${i}`, t('draft.other', '{by} has a draft of this model since {since}', { by: other.by, since: formatSince(other.since) }));
  }

  const deploy = createDeploy({
    config, api, dialog: ui.dialog, collect, problems, drafts,
    onProblems: () => ui.problemsList.scrollIntoView({ block: 'nearest' })
  });

  ui.buttons.validate.addEventListener('click', () => validate().catch(() => {}));
  ui.buttons.deploy.addEventListener('click', () => deploy.open());
  ui.buttons.discard.addEventListener('click', async () => {
    if (!window.confirm(t('draft.confirmDiscard', 'Discard your draft and reload the deployed version?'))) return;
    try {
      await drafts.discard();
      window.location.reload();
    } catch (err) {
      showNotice('discard', t('draft.discardFailed', 'The draft was not discarded: {message}', { message: err.message }), true);
    }
  });
  ui.buttons['new-form'].addEventListener('click', async () => {
    const name = await askName(ui.nameDialog, t('files.newFormTitle', 'New form'), `${config.model_id || 'form'}_new`);
    if (name) files.newForm(name);
  });
  ui.buttons['new-dmn'].addEventListener('click', async () => {
    const name = await askName(ui.nameDialog, t('files.newDmnTitle', 'New decision table'), `${config.model_id || 'decision'}_table`);
    if (name) await files.newDmn(name);
  });

  try {
    let xml = files.store[mainFile];
    // A diagram written without its drawing (by a generator, or a modeller that keeps none) is
    // laid out here, so that there is something to edit; the layout is saved with the next change.
    if (!/BPMNDiagram/.test(xml)) {
      try {
        const { layoutProcess } = await import('bpmn-auto-layout');
        xml = await layoutProcess(xml);
        showNotice('layout', t('editor.laidOut', 'The diagram had no drawing: it was laid out automatically.'), false);
      } catch (err) {
        console.warn('automatic layout failed', err);
      }
    }
    const { warnings } = await modeler.importXML(xml);
    if (warnings.length) console.warn('diagram import warnings', warnings);
    modeler.get('canvas').zoom('fit-viewport');
  } catch (err) {
    showNotice('import', t('editor.importFailed', 'The diagram could not be read: {message}', { message: err.message }), true);
  }
  await files.open(mainFile);

  window.editorApp = {
    modeler,
    files: () => ({ ...files.store }),
    openFile: name => files.open(name),
    validate,
    saveDraft: () => drafts.save(),
    problems: () => problems.all()
  };
  root.dataset.ready = 'true';
  document.dispatchEvent(new CustomEvent('editor-ready'));
}

start();
