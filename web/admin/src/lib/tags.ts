// Group tags, loaded once per page in full (a corp has tens of them, not thousands).
import type { GroupTag } from "../gen/scrm/group/v1/group_pb";
import { groups } from "./api";

/** Every group tag, following the pages of ListGroupTags. */
export async function loadAllTags(): Promise<GroupTag[]> {
  const all: GroupTag[] = [];
  let pageToken = "";
  do {
    const page = await groups.listGroupTags({ pageSize: 200, pageToken });
    all.push(...page.tags);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return all;
}
