// JWT pair kept in localStorage so a reload keeps the user signed in.
// Listeners let React (useSession) react when fetchAPI clears an expired session.

export interface Tokens {
  access: string;
  refresh: string;
}

const ACCESS_KEY = 'creditdesk.access';
const REFRESH_KEY = 'creditdesk.refresh';
const listeners = new Set<() => void>();

function notify() {
  listeners.forEach((listener) => listener());
}

export const tokenStore = {
  get(): Tokens | null {
    const access = localStorage.getItem(ACCESS_KEY);
    const refresh = localStorage.getItem(REFRESH_KEY);
    return access && refresh ? { access, refresh } : null;
  },
  set(tokens: Tokens) {
    localStorage.setItem(ACCESS_KEY, tokens.access);
    localStorage.setItem(REFRESH_KEY, tokens.refresh);
    notify();
  },
  clear() {
    localStorage.removeItem(ACCESS_KEY);
    localStorage.removeItem(REFRESH_KEY);
    notify();
  },
  subscribe(listener: () => void) {
    listeners.add(listener);
    // Another tab signing in or out changes storage too.
    window.addEventListener('storage', listener);
    return () => {
      listeners.delete(listener);
      window.removeEventListener('storage', listener);
    };
  },
};
