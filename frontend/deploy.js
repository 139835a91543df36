import { t } from './i18n.js';

export function createDeploy({ config, api, dialog, collect, problems, drafts, onProblems }) {
  const comment = dialog.querySelector('#deploy-comment');
  const confirm = dialog.querySelector('#deploy-confirm');
  const cancel = dialog.querySelector('.deploy-cancel');
  const message = dialog.querySelector('.deploy-message');

  function say(text, link) {
    message.replaceChildren(document.createTextNode(text));
    if (link) {
      const anchor = document.createElement('a');
      anchor.href = link;
      anchor.className = 'deploy-compare';
      anchor.textContent = t('deploy.compare', 'Compare with the newer version');
      message.append(' ', anchor);
    }
  }

  function openDialog() {
    say('');
    dialog.showModal();
    comment.focus();
  }

  async function run() {
    if (!comment.value.trim()) {
      say(t('deploy.commentRequired', 'Write what changed and why.'));
      comment.focus();
      return;
    }
    confirm.disabled = true;
    say(t('deploy.running', 'Deploying…'));
    try {
      const files = await collect();
      const { status, body } = await api.deploy(files, comment.value.trim());
      problems.setServer([], body.warnings || []);
      if (status === 201) {
        drafts.forgetLocal();
        say(t('deploy.done', 'Version {version} deployed.', { version: body.version }));
        window.location.assign(config.urls.model || `/models/${encodeURIComponent(body.id)}`);
        return;
      }
      say(t('deploy.identical', 'Nothing to deploy: the files are identical to version {version}.', { version: body.version }));
    } catch (err) {
      if (err.status === 409) {
        const detail = (err.body.details || [])[0] || {};
        say(err.message, detail.compare_url);
      } else if (err.status === 422) {
        problems.setServer(err.body.details || [], []);
        say(err.message || t('deploy.refused', 'The server refused the model: see the problems.'));
        onProblems();
      } else {
        say(err.message);
      }
    } finally {
      confirm.disabled = false;
    }
  }

  confirm.addEventListener('click', run);
  cancel.addEventListener('click', () => dialog.close());
  return { open: openDialog, run };
}
