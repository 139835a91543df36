// Stands in for codemirror-json-schema's shiki-based renderer: its messages are shown as plain text.
import { escapeHtml } from './markdown.js';

export function renderMarkdown(text) {
  return escapeHtml(String(text ?? '')).replace(/`([^`]+)`/g, '<code>$1</code>');
}
