import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn.css';
import './compare.css';

import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';
import { diff } from 'bpmn-js-differ';
import spiffDescriptor from './spiffworkflow.json';
import { readJsonScript, setTexts, t } from './i18n.js';
import { LoopDataRefsModule } from './spiff-model.js';

function viewer(container) {
  container.classList.add('compare-canvas');
  return new NavigatedViewer({
    container,
    additionalModules: [ LoopDataRefsModule ],
    moddleExtensions: { spiffworkflow: spiffDescriptor }
  });
}

function mark(view, ids, marker) {
  const registry = view.get('elementRegistry');
  const canvas = view.get('canvas');
  for (const id of ids) if (registry.get(id)) canvas.addMarker(id, marker);
}

function legend(pair) {
  const list = document.createElement('ul');
  list.className = 'compare-legend';
  for (const [ marker, key, english ] of [
    [ 'diff-added', 'compare.added', 'added' ],
    [ 'diff-removed', 'compare.removed', 'removed' ],
    [ 'diff-changed', 'compare.changed', 'changed' ],
    [ 'diff-layout', 'compare.layout', 'moved or resized' ]
  ]) {
    const item = document.createElement('li');
    const swatch = document.createElement('span');
    swatch.className = `compare-swatch ${marker}`;
    item.append(swatch, t(key, english));
    list.append(item);
  }
  pair.parentNode.insertBefore(list, pair);
}

async function start() {
  const config = readJsonScript('compare-config');
  const oldContainer = document.getElementById('compare-old');
  const newContainer = document.getElementById('compare-new');
  if (!config || !oldContainer || !newContainer) return;
  setTexts(config.texts);
  const pair = oldContainer.parentNode === newContainer.parentNode ? oldContainer.parentNode : null;
  if (pair && pair !== document.body) {
    pair.classList.add('compare-pair');
    legend(pair);
  } else {
    const wrapper = document.createElement('div');
    oldContainer.before(wrapper);
    legend(wrapper);
    wrapper.remove();
  }

  const oldViewer = viewer(oldContainer);
  const newViewer = viewer(newContainer);
  await oldViewer.importXML(config.old_xml);
  await newViewer.importXML(config.new_xml);
  oldViewer.get('canvas').zoom('fit-viewport');
  newViewer.get('canvas').zoom('fit-viewport');

  const changes = diff(oldViewer.getDefinitions(), newViewer.getDefinitions());
  const result = {
    added: Object.keys(changes._added),
    removed: Object.keys(changes._removed),
    changed: Object.keys(changes._changed),
    layout: Object.keys(changes._layoutChanged)
  };
  mark(newViewer, result.added, 'diff-added');
  mark(oldViewer, result.removed, 'diff-removed');
  for (const view of [ oldViewer, newViewer ]) {
    mark(view, result.changed, 'diff-changed');
    mark(view, result.layout.filter(id => !result.changed.includes(id)), 'diff-layout');
  }
  window.compareResult = result;
  document.dispatchEvent(new CustomEvent('compare-ready', { detail: result }));
}

start();
