// Groups for events and flows: timers with an ISO 8601 check, messages with their payload.
import { SelectEntry, TextFieldEntry } from '@bpmn-io/properties-panel';
import { getBusinessObject, is, isAny } from 'bpmn-js/lib/util/ModelUtil';
import { t } from './i18n.js';
import { CodeEntry, NoteEntry } from './spiff-entries.js';
import { getBody, getExpression, setBody, setExpression } from './spiff-model.js';
import { checkTimer } from './timer.js';

export function timerGroup(element, injector) {
  const bo = getBusinessObject(element);
  const definition = (bo.eventDefinitions || []).find(d => is(d, 'bpmn:TimerEventDefinition'));
  if (!definition) return null;
  const modeling = injector.get('modeling');
  const types = [ 'timeDuration', 'timeDate', 'timeCycle' ];
  const currentType = () => types.find(type => definition.get(type)) || 'timeDuration';
  const result = checkTimer(currentType(), getExpression(definition, currentType()));
  return {
    id: 'spiff-timer',
    label: t('props.timerGroup', 'Timer'),
    entries: [
      {
        id: 'spiff-timer-type',
        component: SelectEntry,
        element,
        label: t('props.timerType', 'Type'),
        getOptions: () => [
          { value: 'timeDuration', label: t('props.timeDuration', 'Duration (after…)') },
          { value: 'timeDate', label: t('props.timeDate', 'Date (on…)') },
          { value: 'timeCycle', label: t('props.timeCycle', 'Cycle (every…)') }
        ],
        getValue: currentType,
        setValue: type => {
          const from = currentType();
          if (type === from) return;
          modeling.updateModdleProperties(element, definition, { [from]: undefined, [type]: definition.get(from) });
        }
      },
      {
        id: 'spiff-timer-value',
        component: TextFieldEntry,
        element,
        debounce: injector.get('debounceInput'),
        label: t('props.timerValue', 'Value (Python expression, e.g. "P3D")'),
        getValue: () => getExpression(definition, currentType()),
        setValue: value => setExpression(injector, element, definition, currentType(), (value || '').trim()),
        validate: value => {
          const check = checkTimer(currentType(), value);
          return check.ok || !value ? undefined : check.text;
        }
      },
      { id: 'spiff-timer-check', component: NoteEntry, text: result.text, ok: result.ok }
    ]
  };
}

export function messageGroup(element, injector) {
  const bo = getBusinessObject(element);
  const holder = isAny(bo, [ 'bpmn:SendTask', 'bpmn:ReceiveTask' ])
    ? bo
    : (bo.eventDefinitions || []).find(d => is(d, 'bpmn:MessageEventDefinition'));
  if (!holder) return null;
  const throwing = isAny(bo, [ 'bpmn:SendTask', 'bpmn:IntermediateThrowEvent', 'bpmn:EndEvent' ]);
  const entries = [ {
    id: 'spiff-message-name',
    component: TextFieldEntry,
    element,
    debounce: injector.get('debounceInput'),
    label: t('props.messageName', 'Message name'),
    getValue: () => (holder.messageRef && holder.messageRef.name) || '',
    setValue: value => setMessageName(injector, element, holder, (value || '').trim())
  } ];
  entries.push(throwing
    ? {
      id: 'spiff-message-payload',
      component: CodeEntry,
      element,
      label: t('props.messagePayload', 'Payload (Python expression)'),
      getValue: () => getBody(holder, 'spiffworkflow:MessagePayload'),
      setValue: value => setBody(injector, element, holder, 'spiffworkflow:MessagePayload', value)
    }
    : {
      id: 'spiff-message-variable',
      component: TextFieldEntry,
      element,
      debounce: injector.get('debounceInput'),
      label: t('props.messageVariable', 'Variable receiving the payload'),
      getValue: () => getBody(holder, 'spiffworkflow:MessageVariable'),
      setValue: value => setBody(injector, element, holder, 'spiffworkflow:MessageVariable', (value || '').trim())
    });
  entries.push(...correlationEntries(element, injector, holder));
  return { id: 'spiff-message', label: t('props.messageGroup', 'Message'), entries };
}

function definitionsOf(injector) {
  return injector.get('canvas').getRootElement().businessObject.$parent;
}

// Correlation, as the engine reads it: a correlation property's expression, per message,
// evaluated on the message's payload to match the instance waiting for it.
function correlationEntries(element, injector, holder) {
  const message = holder.messageRef;
  if (!message) return [];
  const modeling = injector.get('modeling');
  const factory = injector.get('bpmnFactory');
  const definitions = definitionsOf(injector);
  const entries = [];
  for (const property of (definitions.rootElements || []).filter(e => is(e, 'bpmn:CorrelationProperty'))) {
    for (const retrieval of property.get('correlationPropertyRetrievalExpression')) {
      if (retrieval.messageRef !== message) continue;
      entries.push({
        id: `spiff-correlation-${property.id}`,
        component: TextFieldEntry,
        element,
        debounce: injector.get('debounceInput'),
        label: t('props.correlation', 'Correlation “{name}”: expression on the payload', { name: property.name || property.id }),
        getValue: () => (retrieval.messagePath && retrieval.messagePath.body) || '',
        setValue: value => {
          const body = (value || '').trim();
          if (retrieval.messagePath) modeling.updateModdleProperties(element, retrieval.messagePath, { body });
          else modeling.updateModdleProperties(element, retrieval, { messagePath: factory.create('bpmn:FormalExpression', { body }) });
        }
      });
    }
  }
  entries.push({
    id: 'spiff-correlation-new',
    component: TextFieldEntry,
    element,
    debounce: injector.get('debounceInput'),
    label: t('props.correlationNew', 'New correlation property (its name)'),
    description: t('props.correlationNewHelp', 'Its expression is the variable of the same name; edit it above once added.'),
    getValue: () => '',
    setValue: value => addCorrelation(element, injector, message, (value || '').trim())
  });
  return entries;
}

function addCorrelation(element, injector, message, name) {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return;
  const modeling = injector.get('modeling');
  const factory = injector.get('bpmnFactory');
  const definitions = definitionsOf(injector);
  let property = (definitions.rootElements || []).find(e => is(e, 'bpmn:CorrelationProperty') && (e.name === name || e.id === name));
  const retrieval = factory.create('bpmn:CorrelationPropertyRetrievalExpression', {
    messageRef: message,
    messagePath: factory.create('bpmn:FormalExpression', { body: name })
  });
  if (property) {
    if (property.get('correlationPropertyRetrievalExpression').some(r => r.messageRef === message)) return;
    retrieval.$parent = property;
    modeling.updateModdleProperties(element, property, {
      correlationPropertyRetrievalExpression: [ ...property.get('correlationPropertyRetrievalExpression'), retrieval ]
    });
    return;
  }
  property = factory.create('bpmn:CorrelationProperty', { id: name, name, correlationPropertyRetrievalExpression: [ retrieval ] });
  retrieval.$parent = property;
  property.$parent = definitions;
  modeling.updateModdleProperties(element, definitions, { rootElements: [ ...definitions.get('rootElements'), property ] });
}

function setMessageName(injector, element, holder, name) {
  const modeling = injector.get('modeling');
  if (holder.messageRef) {
    modeling.updateModdleProperties(element, holder.messageRef, { name: name || undefined });
    return;
  }
  if (!name) return;
  const definitions = injector.get('canvas').getRootElement().businessObject.$parent;
  const existing = (definitions.rootElements || []).find(e => is(e, 'bpmn:Message') && e.name === name);
  let message = existing;
  if (!message) {
    message = injector.get('bpmnFactory').create('bpmn:Message', { name });
    message.$parent = definitions;
    modeling.updateModdleProperties(element, definitions, { rootElements: [ ...definitions.get('rootElements'), message ] });
  }
  modeling.updateModdleProperties(element, holder, { messageRef: message });
}
