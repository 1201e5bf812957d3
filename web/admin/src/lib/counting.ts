// Counting items of list RPCs that page but report no total (broadcasts, alerts), up to a cap.

/** One page of some list: how many items it holds and the cursor of the next page. */
export interface CountedPage {
  items: number;
  nextPageToken: string;
}

/** Counts items page by page, 200 at a time, stopping after `maxPages`; `capped` says there were more. */
export async function countAll(fetchPage: (pageToken: string) => Promise<CountedPage>, maxPages = 5) {
  let count = 0;
  let pageToken = "";
  for (let page = 0; page < maxPages; page++) {
    const answer = await fetchPage(pageToken);
    count += answer.items;
    pageToken = answer.nextPageToken;
    if (!pageToken) return { count, capped: false };
  }
  return { count, capped: true };
}
