// Reading and writing our spiffworkflow: extension elements through bpmn-js commands, so that every
// edit is undoable and lands in the same XML the server deploys.
import { getBusinessObject, is } from 'bpmn-js/lib/util/ModelUtil';

export const SPIFF_NS = 'http://spiffworkflow.org/bpmn/schema/1.0/core';

// bpmn-moddle reads <bpmn:loopDataInputRef> as a reference to an element id, but SpiffWorkflow writes a
// variable name there: left as a reference it would be unresolved on import and dropped on export.
export function LoopDataRefsAsText(moddle) {
  const descriptor = moddle.getTypeDescriptor('bpmn:MultiInstanceLoopCharacteristics');
  for (const name of [ 'bpmn:loopDataInputRef', 'bpmn:loopDataOutputRef' ]) {
    const property = descriptor.propertiesByName[name];
    if (property) {
      property.isReference = false;
      property.type = 'String';
    }
  }
}
LoopDataRefsAsText.$inject = [ 'moddle' ];

export const LoopDataRefsModule = {
  __init__: [ 'loopDataRefsAsText' ],
  loopDataRefsAsText: [ 'type', LoopDataRefsAsText ]
};

// A participant's properties are its process's.
export function processOf(element) {
  const bo = getBusinessObject(element);
  if (is(bo, 'bpmn:Participant')) return bo.processRef || null;
  return is(bo, 'bpmn:Process') ? bo : null;
}

export function extensionsOf(bo, type) {
  const values = (bo && bo.extensionElements && bo.extensionElements.values) || [];
  return values.filter(value => is(value, type));
}

export function getProperty(bo, name) {
  for (const properties of extensionsOf(bo, 'spiffworkflow:Properties')) {
    const found = (properties.properties || []).find(p => p.name === name);
    if (found) return found.value || '';
  }
  return '';
}

export function getBody(bo, type) {
  const [ found ] = extensionsOf(bo, type);
  return (found && found.value) || '';
}

function create(bpmnFactory, type, attrs, parent) {
  const element = bpmnFactory.create(type, attrs);
  element.$parent = parent;
  return element;
}

function ensureExtensionElements(injector, element, bo) {
  if (bo.extensionElements) return bo.extensionElements;
  const extensionElements = create(injector.get('bpmnFactory'), 'bpmn:ExtensionElements', { values: [] }, bo);
  injector.get('modeling').updateModdleProperties(element, bo, { extensionElements });
  return extensionElements;
}

function addExtension(injector, element, bo, child) {
  const extensionElements = ensureExtensionElements(injector, element, bo);
  child.$parent = extensionElements;
  injector.get('modeling').updateModdleProperties(element, extensionElements, {
    values: [ ...(extensionElements.get('values') || []), child ]
  });
}

function removeExtension(injector, element, bo, child) {
  const extensionElements = bo.extensionElements;
  injector.get('modeling').updateModdleProperties(element, extensionElements, {
    values: extensionElements.get('values').filter(value => value !== child)
  });
}

// An empty value removes the property rather than storing name="" which the server would read as set.
export function setProperty(injector, element, bo, name, value) {
  const modeling = injector.get('modeling');
  const bpmnFactory = injector.get('bpmnFactory');
  value = value == null ? '' : String(value);
  const [ properties ] = extensionsOf(bo, 'spiffworkflow:Properties');
  const existing = properties && (properties.properties || []).find(p => p.name === name);
  if (existing) {
    if (value) {
      modeling.updateModdleProperties(element, existing, { value });
    } else {
      modeling.updateModdleProperties(element, properties, {
        properties: properties.get('properties').filter(p => p !== existing)
      });
    }
    return;
  }
  if (!value) return;
  if (properties) {
    const property = create(bpmnFactory, 'spiffworkflow:Property', { name, value }, properties);
    modeling.updateModdleProperties(element, properties, { properties: [ ...properties.get('properties'), property ] });
    return;
  }
  const holder = create(bpmnFactory, 'spiffworkflow:Properties', {}, null);
  holder.get('properties').push(create(bpmnFactory, 'spiffworkflow:Property', { name, value }, holder));
  addExtension(injector, element, bo, holder);
}

export function setBody(injector, element, bo, type, value) {
  const [ existing ] = extensionsOf(bo, type);
  if (existing) {
    if (value) injector.get('modeling').updateModdleProperties(element, existing, { value });
    else removeExtension(injector, element, bo, existing);
  } else if (value) {
    addExtension(injector, element, bo, create(injector.get('bpmnFactory'), type, { value }, null));
  }
}

export function getExpression(bo, property) {
  const expression = bo && bo.get(property);
  return (expression && expression.body) || '';
}

export function setExpression(injector, element, bo, property, body) {
  const modeling = injector.get('modeling');
  const existing = bo.get(property);
  if (existing && body) {
    modeling.updateModdleProperties(element, existing, { body });
  } else {
    const value = body ? create(injector.get('bpmnFactory'), 'bpmn:FormalExpression', { body }, bo) : undefined;
    modeling.updateModdleProperties(element, bo, { [property]: value });
  }
}
