import { EditorView, basicSetup } from 'codemirror';
import { EditorState } from '@codemirror/state';
import { python } from '@codemirror/lang-python';
import { json, jsonParseLinter } from '@codemirror/lang-json';
import { linter, lintGutter } from '@codemirror/lint';
import { jsonSchema } from 'codemirror-json-schema';
import metaSchema from 'virtual:json-schema-meta';
import { disableErrorLogging } from 'best-effort-json-parser';

// codemirror-json-schema's parser logs every incomplete document to the console while one types.
disableErrorLogging();

function create(parent, doc, onChange, extensions, label) {
  return new EditorView({
    parent,
    state: EditorState.create({
      doc: doc || '',
      extensions: [
        basicSetup,
        EditorView.lineWrapping,
        EditorView.contentAttributes.of(label ? { 'aria-label': label } : {}),
        EditorView.updateListener.of(update => {
          if (update.docChanged && onChange) onChange(update.state.doc.toString());
        }),
        ...extensions
      ]
    })
  });
}

export function pythonEditor(parent, doc, onChange, label) {
  return create(parent, doc, onChange, [ python() ], label);
}

// *.schema.json files are also checked against the JSON Schema 2020-12 meta-schema, bundled.
export function jsonEditor(parent, doc, onChange, { metaValidate = false, label } = {}) {
  const extensions = metaValidate
    ? [ jsonSchema(metaSchema), lintGutter() ]
    : [ json(), linter(jsonParseLinter(), { delay: 250 }), lintGutter() ];
  return create(parent, doc, onChange, extensions, label);
}

// Replaces the text without echoing it back as a user edit when the model changed elsewhere (undo).
export function setDoc(view, text) {
  if (view.state.doc.toString() === text) return;
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
}
