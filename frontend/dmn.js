// Loaded only when a DMN file is opened: dmn-js is large and most models have no decision table.
import DmnModeler from 'dmn-js/lib/Modeler';

function ensureStyles() {
  if (document.querySelector('link[data-dmn-styles]')) return;
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = new URL('../dmn.css', import.meta.url).href;
  link.dataset.dmnStyles = '';
  document.head.append(link);
}

export function emptyDecision(name) {
  const id = name.replace(/[^A-Za-z0-9_]/g, '_');
  return `<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" xmlns:dmndi="https://www.omg.org/spec/DMN/20191111/DMNDI/" xmlns:dc="http://www.omg.org/spec/DMN/20180521/DC/" id="Definitions_${id}" name="${id}" namespace="http://assembly.kz/dmn">
  <decision id="${id}" name="${id}">
    <decisionTable id="DecisionTable_${id}" hitPolicy="FIRST">
      <input id="Input_${id}" label="Input">
        <inputExpression id="InputExpression_${id}" typeRef="string">
          <text>value</text>
        </inputExpression>
      </input>
      <output id="Output_${id}" label="Result" name="result" typeRef="string" />
    </decisionTable>
  </decision>
  <dmndi:DMNDI>
    <dmndi:DMNDiagram id="DMNDiagram_${id}">
      <dmndi:DMNShape id="DMNShape_${id}" dmnElementRef="${id}">
        <dc:Bounds height="80" width="180" x="160" y="100" />
      </dmndi:DMNShape>
    </dmndi:DMNDiagram>
  </dmndi:DMNDI>
</definitions>
`;
}

export async function openDmn(container, xml, onChange) {
  ensureStyles();
  const modeler = new DmnModeler({ container });
  await modeler.importXML(xml);
  const table = modeler.getViews().find(view => view.type === 'decisionTable');
  if (table) await modeler.open(table);

  const save = async () => (await modeler.saveXML({ format: true })).xml;
  let watched = null;
  const watch = () => {
    const viewer = modeler.getActiveViewer();
    if (!viewer || viewer === watched) return;
    watched = viewer;
    viewer.get('eventBus').on('elements.changed', async () => onChange(await save()));
  };
  modeler.on('views.changed', watch);
  watch();

  return { container, modeler, saveXML: save };
}
