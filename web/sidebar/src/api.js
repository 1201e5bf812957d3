// Calls to scrm's REST API (same origin as the page). Errors carry the server's Chinese-friendly message.

async function call(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
    credentials: 'same-origin',
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = new Error(data.message || `请求失败（${response.status}）`);
    error.code = data.code;
    throw error;
  }
  return data;
}

export const api = {
  context: (url) => call('GET', `/api/sidebar/context?url=${encodeURIComponent(url)}`),
  customer: (id) => call('GET', `/api/crm/customers/${encodeURIComponent(id)}`),
  notes: (id) => call('GET', `/api/sidebar/customers/${encodeURIComponent(id)}/notes`),
  addNote: (id, content) => call('POST', `/api/sidebar/customers/${encodeURIComponent(id)}/notes`, { content }),
  quickReplies: (q) => call('GET', `/api/sidebar/quick-replies?q=${encodeURIComponent(q || '')}`),
  render: (id, chat) => call('POST', `/api/sidebar/quick-replies/${id}/render`, chat),
  recordSent: (id, chat, idempotencyKey) =>
    call('POST', `/api/sidebar/quick-replies/${id}/sent`, { ...chat, idempotencyKey }),
};
