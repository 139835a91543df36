import defaults from './texts.json';

let texts = {};

export function setTexts(translated) {
  texts = translated || {};
}

// Unknown keys fall back to the English default, so the editor stays usable before a catalogue is
// complete; the defaults live in texts.json, which is the list the server translates.
export function t(key, english, params) {
  let text = texts[key] || english || defaults[key] || key;
  if (params) text = text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
  return text;
}

export function readJsonScript(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
}
