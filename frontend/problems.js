// One list for bpmnlint's findings and the server's problems and warnings.
import { t } from './i18n.js';

export function createProblems(list, { onSelect }) {
  const sources = { lint: [], server: [] };

  function render() {
    list.replaceChildren();
    const all = [ ...sources.server, ...sources.lint ];
    const order = { error: 0, warning: 1 };
    all.sort((a, b) => order[a.severity] - order[b.severity]);
    if (!all.length) {
      const empty = document.createElement('li');
      empty.className = 'problems-empty';
      empty.textContent = t('problems.none', 'No problems found.');
      list.append(empty);
    }
    for (const problem of all) {
      const item = document.createElement('li');
      item.className = `problem problem-${problem.severity}`;
      const button = document.createElement('button');
      button.type = 'button';
      if (problem.element_id) button.dataset.elementId = problem.element_id;
      if (problem.file) button.dataset.file = problem.file;
      const severity = document.createElement('span');
      severity.className = 'problem-severity';
      severity.textContent = problem.severity === 'error' ? t('problems.error', 'Error') : t('problems.warning', 'Warning');
      const where = document.createElement('span');
      where.className = 'problem-where';
      where.textContent = [ problem.file && (problem.line ? `${problem.file}:${problem.line}` : problem.file), problem.element_id ]
        .filter(Boolean).join(' · ');
      const message = document.createElement('span');
      message.className = 'problem-message';
      message.textContent = problem.message;
      const origin = document.createElement('span');
      origin.className = 'problem-origin';
      origin.textContent = problem.source === 'lint' ? t('problems.lint', 'lint') : t('problems.server', 'server');
      button.append(severity, ' ', message, ' ', where, ' ', origin);
      button.addEventListener('click', () => onSelect(problem));
      item.dataset.elementId = problem.element_id || '';
      item.append(button);
      list.append(item);
    }
    list.dispatchEvent(new CustomEvent('problems-changed', { bubbles: true, detail: { count: all.length } }));
  }

  return {
    setLint(issues, file) {
      sources.lint = [];
      for (const [ elementId, reports ] of Object.entries(issues || {})) {
        for (const report of reports) {
          sources.lint.push({
            source: 'lint',
            severity: report.category === 'error' ? 'error' : 'warning',
            element_id: report.actualElementId || report.id || elementId,
            file,
            message: `${report.message} (${report.rule})`
          });
        }
      }
      render();
    },
    setServer(problems, warnings) {
      const shape = severity => p => ({ source: 'server', severity, ...p });
      sources.server = [ ...(problems || []).map(shape('error')), ...(warnings || []).map(shape('warning')) ];
      render();
    },
    all: () => [ ...sources.server, ...sources.lint ],
    render
  };
}
