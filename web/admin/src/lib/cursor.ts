// Server-side pagination with opaque page tokens: remembers the tokens of the pages already seen so the
// user can go back, since a cursor only leads forward.
import { computed, ref } from "vue";

/** Page-token bookkeeping for one list: `token` is the page to load, `next` the token the server gave. */
export function useCursor() {
  const tokens = ref<string[]>([""]);
  const next = ref("");
  const index = ref(0);
  return {
    /** The token of the page to load now. */
    token: computed(() => tokens.value[index.value]),
    /** 1-based number of the current page. */
    page: computed(() => index.value + 1),
    hasPrev: computed(() => index.value > 0),
    hasNext: computed(() => next.value !== ""),
    /** Records the `next_page_token` of the page just loaded. */
    loaded(nextToken: string) {
      next.value = nextToken;
    },
    /** Moves to the next page; false when there is none. */
    forward(): boolean {
      if (!next.value) return false;
      tokens.value = [...tokens.value.slice(0, index.value + 1), next.value];
      index.value++;
      return true;
    },
    /** Moves to the previous page; false on the first. */
    back(): boolean {
      if (index.value === 0) return false;
      index.value--;
      return true;
    },
    /** Starts over from the first page (after the filters changed). */
    reset() {
      tokens.value = [""];
      next.value = "";
      index.value = 0;
    },
  };
}

/** The bookkeeping of one list, as `useCursor` makes it. */
export type Cursor = ReturnType<typeof useCursor>;
