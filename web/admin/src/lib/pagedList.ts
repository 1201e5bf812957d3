// A list read page by page from a cursor-paged RPC, with a "load more" that appends the next page.
import { ref, type Ref } from "vue";
import { describeError } from "./format";

/** One page of items and the cursor of the next one (empty on the last page). */
export interface ListPage<T> {
  items: T[];
  nextPageToken: string;
}

/** The items loaded so far, the next cursor, the last error, and `load(first)` to restart or append. */
export function usePagedList<T>(fetchPage: (pageToken: string) => Promise<ListPage<T>>) {
  const items = ref([]) as Ref<T[]>;
  const nextToken = ref("");
  const error = ref("");

  async function load(first: boolean) {
    error.value = "";
    try {
      const page = await fetchPage(first ? "" : nextToken.value);
      items.value = first ? page.items : [...items.value, ...page.items];
      nextToken.value = page.nextPageToken;
    } catch (problem) {
      error.value = describeError(problem);
    }
  }

  return { items, nextToken, error, load };
}
