// Properties panel groups for what our server reads from a diagram: spiffworkflow: properties,
// scripts, instructions, forms, timers, messages, called processes and decisions.
import { SelectEntry, TextAreaEntry, TextFieldEntry } from '@bpmn-io/properties-panel';
import { getBusinessObject, is, isAny } from 'bpmn-js/lib/util/ModelUtil';
import { t } from './i18n.js';
import { ButtonEntry, CodeEntry, ComboEntry, MarkdownEntry, NoteEntry } from './spiff-entries.js';
import { getBody, getExpression, getProperty, processOf, setBody, setExpression, setProperty } from './spiff-model.js';
import { messageGroup, timerGroup } from './spiff-events.js';

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export default class SpiffPropertiesProvider {
  constructor(propertiesPanel, injector, config) {
    this._injector = injector;
    this._config = config || {};
    propertiesPanel.registerProvider(400, this);
  }

  getGroups(element) {
    return groups => {
      const ours = [
        this._processGroup(element),
        this._laneGroup(element),
        this._userTaskGroup(element),
        this._scriptGroup(element),
        this._conditionGroup(element),
        timerGroup(element, this._injector),
        messageGroup(element, this._injector),
        this._callGroup(element),
        this._multiInstanceGroup(element),
        this._legalGroup(element)
      ].filter(group => group && group.entries.length);
      const kept = groups.filter(group => !(group.id === 'timer' && ours.some(g => g.id === 'spiff-timer')));
      const at = Math.min(kept.length, 2);
      kept.splice(at, 0, ...ours);
      return kept;
    };
  }

  _debounce() {
    return this._injector.get('debounceInput');
  }

  _propertyField(element, bo, name, label, extra = {}) {
    const injector = this._injector;
    return {
      id: `spiff-${name}`,
      component: extra.rows ? TextAreaEntry : TextFieldEntry,
      element,
      label,
      debounce: this._debounce(),
      getValue: () => getProperty(bo, name),
      setValue: value => setProperty(injector, element, bo, name, (value || '').trim()),
      ...extra
    };
  }

  _processGroup(element) {
    const process = processOf(element);
    if (!process) return null;
    const validateDate = value => (value && !DATE.test(value) ? t('props.dateFormat', 'A date as YYYY-MM-DD.') : undefined);
    const field = (name, label, extra) => this._propertyField(element, process, name, label, extra);
    return {
      id: 'spiff-process',
      label: t('props.processGroup', 'Process (server)'),
      entries: [
        field('title_en', t('props.title_en', 'Title (English)')),
        field('description_en', t('props.description_en', 'One-line description (English)'), { rows: 2 }),
        field('legal_basis_document', t('props.legal_basis_document', 'Legal basis document'), { rows: 2 }),
        field('in_force_from', t('props.in_force_from', 'In force from'), { validate: validateDate, description: 'YYYY-MM-DD' }),
        field('in_force_to', t('props.in_force_to', 'In force until'), { validate: validateDate, description: 'YYYY-MM-DD' }),
        field('start_groups', t('props.start_groups', 'Groups that may start it'), {
          description: t('props.commaGroups', 'Comma-separated group names.')
        }),
        field('business_key', t('props.business_key', 'Business key variable')),
        field('searchable', t('props.searchable', 'Searchable variables'), {
          description: t('props.commaVariables', 'Comma-separated variable names.')
        })
      ]
    };
  }

  _legalGroup(element) {
    const bo = getBusinessObject(element);
    if (!is(bo, 'bpmn:FlowNode')) return null;
    return {
      id: 'spiff-legal',
      label: t('props.legalGroup', 'Legal basis'),
      entries: [ this._propertyField(element, bo, 'legal_basis', t('props.legal_basis', 'Legal basis'), { rows: 2 }) ]
    };
  }

  _laneGroup(element) {
    if (!is(element, 'bpmn:Lane')) return null;
    const modeling = this._injector.get('modeling');
    const bo = getBusinessObject(element);
    return {
      id: 'spiff-lane',
      label: t('props.laneGroup', 'Group of the lane'),
      entries: [ {
        id: 'spiff-lane-group',
        component: ComboEntry,
        element,
        label: t('props.laneName', 'Group'),
        description: t('props.laneHelp', 'The lane\'s tasks go to this group; a new name creates the group on deploy.'),
        otherLabel: t('props.otherGroup', '(another group…)'),
        getOptions: () => this._config.groups || [],
        getValue: () => bo.name || '',
        setValue: value => modeling.updateProperties(element, { name: value || undefined })
      } ]
    };
  }

  _fileOptions(suffix, current) {
    const names = (this._config.fileNames ? this._config.fileNames() : []).filter(n => n.endsWith(suffix));
    if (current && !names.includes(current)) names.push(current);
    return [ { value: '', label: t('props.none', '(none)') }, ...names.sort().map(n => ({ value: n, label: n })) ];
  }

  _userTaskGroup(element) {
    if (!is(element, 'bpmn:UserTask')) return null;
    const bo = getBusinessObject(element);
    const injector = this._injector;
    const field = (name, label, extra) => this._propertyField(element, bo, name, label, extra);
    return {
      id: 'spiff-user-task',
      label: t('props.userTaskGroup', 'Form and assignment'),
      entries: [
        {
          id: 'spiff-form',
          component: SelectEntry,
          element,
          label: t('props.form', 'Form (JSON Schema)'),
          getOptions: () => this._fileOptions('.schema.json', getProperty(bo, 'formJsonSchemaFilename')),
          getValue: () => getProperty(bo, 'formJsonSchemaFilename'),
          setValue: value => {
            setProperty(injector, element, bo, 'formJsonSchemaFilename', value);
            const ui = value && value.replace(/\.schema\.json$/, '.uischema.json');
            if (ui && this._config.fileNames().includes(ui)) setProperty(injector, element, bo, 'formUiSchemaFilename', ui);
          }
        },
        {
          id: 'spiff-form-ui',
          component: SelectEntry,
          element,
          label: t('props.uiSchema', 'Form layout (UI schema)'),
          getOptions: () => this._fileOptions('.uischema.json', getProperty(bo, 'formUiSchemaFilename')),
          getValue: () => getProperty(bo, 'formUiSchemaFilename'),
          setValue: value => setProperty(injector, element, bo, 'formUiSchemaFilename', value)
        },
        {
          id: 'spiff-new-form',
          component: ButtonEntry,
          label: t('props.newForm', 'New form for this task'),
          onClick: () => {
            const name = this._config.newForm && this._config.newForm(bo.id);
            if (!name) return;
            setProperty(injector, element, bo, 'formJsonSchemaFilename', `${name}.schema.json`);
            setProperty(injector, element, bo, 'formUiSchemaFilename', `${name}.uischema.json`);
          }
        },
        {
          id: 'spiff-instructions',
          component: MarkdownEntry,
          element,
          label: t('props.instructions', 'Instructions for the user (Markdown)'),
          previewLabel: t('props.preview', 'Preview'),
          description: t('props.instructionsHelp', '{{ variable }} shows a value of the case.'),
          getValue: () => getBody(bo, 'spiffworkflow:InstructionsForEndUser'),
          setValue: value => setBody(injector, element, bo, 'spiffworkflow:InstructionsForEndUser', value)
        },
        field('assignee', t('props.assignee', 'Reserved for (expression giving a username)')),
        field('due_at', t('props.due_at', 'Due at (expression giving an ISO date-time)')),
        field('other_groups', t('props.other_groups', 'Other groups that may take it'), {
          description: t('props.commaGroups', 'Comma-separated group names.')
        })
      ]
    };
  }

  _scriptGroup(element) {
    const bo = getBusinessObject(element);
    if (!is(bo, 'bpmn:Task')) return null;
    const injector = this._injector;
    const modeling = injector.get('modeling');
    const entries = [];
    if (is(bo, 'bpmn:ScriptTask')) {
      entries.push({
        id: 'spiff-script',
        component: CodeEntry,
        element,
        label: t('props.script', 'Script (Python)'),
        getValue: () => bo.script || '',
        setValue: value => modeling.updateProperties(element, { script: value || undefined, scriptFormat: bo.scriptFormat || 'python' })
      });
    }
    for (const [ type, key, label ] of [
      [ 'spiffworkflow:PreScript', 'props.preScript', 'Pre-script (runs before the task)' ],
      [ 'spiffworkflow:PostScript', 'props.postScript', 'Post-script (runs after the task)' ]
    ]) {
      entries.push({
        id: `spiff-${type.split(':')[1]}`,
        component: CodeEntry,
        element,
        label: t(key, label),
        getValue: () => getBody(bo, type),
        setValue: value => setBody(injector, element, bo, type, value)
      });
    }
    return { id: 'spiff-scripts', label: t('props.scriptsGroup', 'Scripts'), entries };
  }

  _conditionGroup(element) {
    const bo = getBusinessObject(element);
    if (!is(bo, 'bpmn:SequenceFlow') || !isAny(bo.sourceRef, [ 'bpmn:ExclusiveGateway', 'bpmn:InclusiveGateway', 'bpmn:ComplexGateway' ])) return null;
    const isDefault = bo.sourceRef.default === bo;
    return {
      id: 'spiff-condition',
      label: t('props.conditionGroup', 'Condition'),
      entries: isDefault
        ? [ { id: 'spiff-condition-default', component: NoteEntry, text: t('props.defaultFlow', 'Default flow: taken when no other condition holds.') } ]
        : [ {
          id: 'spiff-condition',
          component: CodeEntry,
          element,
          label: t('props.condition', 'Condition (Python expression)'),
          getValue: () => getExpression(bo, 'conditionExpression'),
          setValue: value => setExpression(this._injector, element, bo, 'conditionExpression', value)
        } ]
    };
  }

  _callGroup(element) {
    const bo = getBusinessObject(element);
    const injector = this._injector;
    if (is(bo, 'bpmn:CallActivity')) {
      return {
        id: 'spiff-call',
        label: t('props.callGroup', 'Called process'),
        entries: [ {
          id: 'spiff-called-element',
          component: ComboEntry,
          element,
          label: t('props.calledElement', 'Process id'),
          otherLabel: t('props.otherProcess', '(another process…)'),
          getOptions: () => this._config.processes || [],
          getValue: () => bo.calledElement || '',
          setValue: value => injector.get('modeling').updateProperties(element, { calledElement: value || undefined })
        } ]
      };
    }
    if (is(bo, 'bpmn:BusinessRuleTask')) {
      return {
        id: 'spiff-decision',
        label: t('props.decisionGroup', 'Decision'),
        entries: [ {
          id: 'spiff-called-decision',
          component: ComboEntry,
          element,
          label: t('props.calledDecisionId', 'Decision id (DMN)'),
          otherLabel: t('props.otherDecision', '(another decision…)'),
          getOptions: () => (this._config.decisionIds ? this._config.decisionIds() : []),
          getValue: () => getBody(bo, 'spiffworkflow:CalledDecisionId'),
          setValue: value => setBody(injector, element, bo, 'spiffworkflow:CalledDecisionId', value)
        } ]
      };
    }
    return null;
  }

  _multiInstanceGroup(element) {
    const bo = getBusinessObject(element);
    const loop = bo.loopCharacteristics;
    if (!is(loop, 'bpmn:MultiInstanceLoopCharacteristics')) return null;
    const injector = this._injector;
    const modeling = injector.get('modeling');
    const item = (property, label) => ({
      id: `spiff-mi-${property}`,
      component: TextFieldEntry,
      element,
      debounce: this._debounce(),
      label,
      getValue: () => (loop.get(property) && loop.get(property).name) || '',
      setValue: value => {
        value = (value || '').trim();
        const data = value ? injector.get('bpmnFactory').create('bpmn:DataInput', { id: value, name: value }) : undefined;
        if (data) data.$parent = loop;
        modeling.updateModdleProperties(element, loop, { [property]: data });
      }
    });
    const text = (property, label) => ({
      id: `spiff-mi-${property}`,
      component: TextFieldEntry,
      element,
      debounce: this._debounce(),
      label,
      getValue: () => loop.get(property) || '',
      setValue: value => modeling.updateModdleProperties(element, loop, { [property]: (value || '').trim() || undefined })
    });
    return {
      id: 'spiff-multi-instance',
      label: t('props.miGroup', 'Instances (collection)'),
      entries: [
        text('loopDataInputRef', t('props.miInput', 'Input collection (variable)')),
        item('inputDataItem', t('props.miItem', 'Element variable')),
        text('loopDataOutputRef', t('props.miOutput', 'Output collection (variable)')),
        item('outputDataItem', t('props.miOutputItem', 'Output element variable'))
      ]
    };
  }
}

SpiffPropertiesProvider.$inject = [ 'propertiesPanel', 'injector', 'config.spiffEditor' ];

export const SpiffPropertiesProviderModule = {
  __init__: [ 'spiffPropertiesProvider' ],
  spiffPropertiesProvider: [ 'type', SpiffPropertiesProvider ]
};
