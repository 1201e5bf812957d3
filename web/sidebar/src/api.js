// Calls to scrm's REST API (same origin as the page). Errors carry the server's Chinese-friendly message and
// its error code; state-changing calls echo the session's CSRF token.

function csrfToken() {
  const cookie = document.cookie.split('; ').find((item) => item.startsWith('scrm_csrf='));
  return cookie ? decodeURIComponent(cookie.slice('scrm_csrf='.length)) : '';
}

async function call(method, path, body) {
  const headers = body ? { 'content-type': 'application/json' } : {};
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken();
  const response = await fetch(path, {
    method,
    headers,
    body: body ? JSON.stringify(body) : undefined,
    credentials: 'same-origin',
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(data.message || `请求失败（${response.status}）`);
    error.code = data.code;
    error.status = response.status;
    throw error;
  }
  return data;
}

const customerPath = (id) => `/api/sidebar/customers/${encodeURIComponent(id)}`;

export const api = {
  me: () => call('GET', '/api/auth/me'),
  wecomUrl: (redirect) => call('GET', `/api/auth/wecom-url?kind=oauth&redirect=${encodeURIComponent(redirect)}`),
  login: (code, state) => call('POST', '/api/auth/login', { code, state }),
  context: (url) => call('GET', `/api/sidebar/context?url=${encodeURIComponent(url)}`),
  customer: (id) => call('GET', `/api/crm/customers/${encodeURIComponent(id)}`),
  notes: (id) => call('GET', `${customerPath(id)}/notes`),
  addNote: (id, content) => call('POST', `${customerPath(id)}/notes`, { content }),
  tagLibrary: () => call('GET', '/api/crm/tags'),
  markTags: (id, change) => call('POST', `${customerPath(id)}/tags`, change),
  quickReplies: (q) => call('GET', `/api/sidebar/quick-replies?q=${encodeURIComponent(q || '')}`),
  render: (id, chat) => call('POST', `/api/sidebar/quick-replies/${id}/render`, chat),
  recordSent: (id, chat, idempotencyKey) =>
    call('POST', `/api/sidebar/quick-replies/${id}/sent`, { ...chat, idempotencyKey }),
};
