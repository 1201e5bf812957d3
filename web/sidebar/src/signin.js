// WeCom OAuth sign-in for the sidebar: WeCom (or, in demo mode, the simulator's authorize page) sends the page
// back with `?code=&state=`, which scrm exchanges (`auth/getuserinfo`) for a session cookie.

import { api } from './api.js';

/** Resolves once the page has a session; otherwise redirects to the OAuth page and never resolves. */
export async function signIn() {
  try {
    return await api.me();
  } catch (failure) {
    if (failure.status !== 401) throw failure;
  }
  const url = new URL(window.location.href);
  const code = url.searchParams.get('code');
  const state = url.searchParams.get('state');
  if (code) {
    url.searchParams.delete('code');
    url.searchParams.delete('state');
    window.history.replaceState(null, '', url.toString());
    await api.login(code, state ?? '');
    return api.me();
  }
  url.hash = '';
  const { url: authorize } = await api.wecomUrl(url.toString());
  window.location.assign(authorize);
  return new Promise(() => {});
}
