import { t } from './i18n.js';

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || t('api.failed', 'The server answered {status}.', { status }));
    this.status = status;
    this.body = body || {};
  }
}

export function createApi(config) {
  async function call(method, url, payload, options = {}) {
    const response = await fetch(url, {
      method,
      credentials: 'same-origin',
      keepalive: Boolean(options.keepalive),
      headers: {
        'Content-Type': 'application/json',
        'Accept': 'application/json',
        'X-CSRF-Token': config.csrf_token || ''
      },
      body: payload === undefined ? undefined : JSON.stringify(payload)
    });
    let body = null;
    if (response.status !== 204) {
      try {
        body = await response.json();
      } catch (err) {
        body = null;
      }
    }
    if (!response.ok) throw new ApiError(response.status, body);
    return { status: response.status, body: body || {} };
  }

  return {
    validate: (files, processId) => call('POST', config.urls.validate, withProcess({ files }, processId)),
    saveDraft: (files, options) => call('PUT', config.urls.draft, { files, base_version: config.base_version }, options),
    discardDraft: () => call('DELETE', config.urls.draft),
    deploy: (files, comment, processId) =>
      call('POST', config.urls.deploy, withProcess({ files, base_version: config.base_version, comment }, processId)),
    preview: payload => call('POST', config.urls.preview, payload)
  };
}

function withProcess(payload, processId) {
  if (processId) payload.process_id = processId;
  return payload;
}
