// Entry components for the properties panel that @bpmn-io/properties-panel does not provide.
import { h } from '@bpmn-io/properties-panel/preact';
import { useEffect, useMemo, useRef, useState } from '@bpmn-io/properties-panel/preact/hooks';
import { pythonEditor, setDoc } from './codeeditor.js';
import { renderMarkdown } from './markdown.js';

// Typing is written to the diagram a moment after it stops. The write is bound to the element
// being edited when it was typed: the panel reuses an entry for the next element selected, and a
// write still pending then lands on the element it was typed for, not on the new one.
const pendingWriters = new Set();

// What was typed in the panel and not yet written, written now: before the diagram is saved,
// validated or deployed.
export function flushPanelWrites() {
  for (const flush of [ ...pendingWriters ]) flush();
}

function useElementWriter(element, apply, wait = 400) {
  const latest = useRef(apply);
  latest.current = apply;
  const writer = useMemo(() => {
    let timer = null;
    let pending = null;
    const flush = () => {
      clearTimeout(timer);
      pendingWriters.delete(flush);
      if (pending) {
        const [ target, text ] = pending;
        pending = null;
        target(text);
      }
    };
    const write = text => {
      pending = [ latest.current, text ];
      pendingWriters.add(flush);
      clearTimeout(timer);
      timer = setTimeout(flush, wait);
    };
    write.flush = flush;
    return write;
  }, [ element ]);
  useEffect(() => writer.flush, [ writer ]);
  return writer;
}

// The panel's own markup for an entry, so that ours look and read like the library's.
function Entry({ id, label, description, children }) {
  return h('div', { class: 'bio-properties-panel-entry spiff-entry', 'data-entry-id': id },
    h('label', { class: 'bio-properties-panel-label', for: `bio-properties-panel-${id}` }, label),
    children,
    description ? h('div', { class: 'bio-properties-panel-description' }, description) : null);
}

export function CodeEntry({ element, id, label, description, getValue, setValue }) {
  const container = useRef(null);
  const view = useRef(null);
  const value = getValue() || '';
  const write = useElementWriter(element, text => {
    if (text !== (getValue() || '')) setValue(text);
  });
  const writeRef = useRef(write);
  writeRef.current = write;

  useEffect(() => {
    view.current = pythonEditor(container.current, value, text => writeRef.current(text), label);
    return () => {
      view.current.destroy();
      view.current = null;
    };
  }, [ element, id ]);

  useEffect(() => {
    if (view.current && !view.current.hasFocus) setDoc(view.current, value);
  }, [ value ]);

  return h(Entry, { id, label, description },
    h('div', { class: 'spiff-code', ref: container, id: `bio-properties-panel-${id}` }));
}

// A value picked from known ones (groups, processes) or typed freely.
export function ComboEntry({ element, id, label, description, getValue, setValue, getOptions, otherLabel }) {
  const value = getValue() || '';
  const [ text, setText ] = useState(value);
  useEffect(() => setText(value), [ value, element ]);
  const options = getOptions();
  const known = options.includes(value);
  const commit = useElementWriter(element, next => setValue(next));

  return h(Entry, { id, label, description },
    h('div', { class: 'spiff-combo' },
      h('select', {
        id: `bio-properties-panel-${id}`,
        class: 'bio-properties-panel-input',
        value: known ? value : '',
        onChange: event => {
          if (event.target.value) {
            setText(event.target.value);
            setValue(event.target.value);
          }
        }
      },
      h('option', { value: '' }, otherLabel),
      options.map(option => h('option', { value: option }, option))),
      h('input', {
        type: 'text',
        class: 'bio-properties-panel-input',
        'aria-label': label,
        value: text,
        onInput: event => {
          setText(event.target.value);
          commit(event.target.value.trim());
        }
      })));
}

// Markdown source with its rendering beside it; the renderer escapes everything typed.
export function MarkdownEntry({ element, id, label, description, getValue, setValue, previewLabel }) {
  const value = getValue() || '';
  const [ text, setText ] = useState(value);
  useEffect(() => setText(value), [ value, element ]);
  const commit = useElementWriter(element, next => setValue(next));

  return h(Entry, { id, label, description },
    h('textarea', {
      id: `bio-properties-panel-${id}`,
      class: 'bio-properties-panel-input spiff-markdown-source',
      rows: 8,
      spellcheck: true,
      value: text,
      onInput: event => {
        setText(event.target.value);
        commit(event.target.value);
      }
    }),
    h('div', { class: 'spiff-markdown-label' }, previewLabel),
    h('div', { class: 'spiff-markdown-preview', dangerouslySetInnerHTML: { __html: renderMarkdown(text) } }));
}

export function ButtonEntry({ id, label, onClick, buttonId }) {
  return h('div', { class: 'bio-properties-panel-entry spiff-entry', 'data-entry-id': id },
    h('button', { type: 'button', id: buttonId, class: 'spiff-button', onClick }, label));
}

export function NoteEntry({ id, text, ok }) {
  return h('div', { class: `bio-properties-panel-entry spiff-note ${ok === false ? 'spiff-note-error' : ''}`, 'data-entry-id': id, role: 'status' }, text);
}
