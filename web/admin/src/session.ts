// The signed-in user, loaded once per page load and cleared on sign-out.
import { ref } from "vue";
import { me as fetchMe, type Me } from "./lib/api";

const current = ref<Me | null>(null);

export const session = {
  current,
  /** Loads who is signed in; null when no one is. */
  async load(): Promise<Me | null> {
    if (current.value) return current.value;
    try {
      current.value = await fetchMe();
    } catch {
      current.value = null;
    }
    return current.value;
  },
  /** Forgets the user (after signing out, or before signing in as someone else). */
  clear() {
    current.value = null;
  },
  /** Whether the signed-in user holds a permission, e.g. `sync.run`. */
  can(permission: string): boolean {
    return current.value?.permissions.includes(permission) ?? false;
  },
};
