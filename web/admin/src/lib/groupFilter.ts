// The group filter the list page and the broadcast composer share, and the requests it turns into.
import type { ActivityBand, GroupAlertState, WelcomeCoverage } from "../gen/scrm/group/v1/group_pb";
import { parseStoreIds } from "./format";

/** What the filter builder edits: owners and stores as typed, tags and bands as picked. */
export interface GroupFilterModel {
  /** Owner userids typed as `zhangsan, lisi`. */
  owners: string;
  /** Store ids typed as `1, 2`. */
  stores: string;
  /** Picked group tag ids. */
  tagIds: bigint[];
  /** Require every picked tag instead of any. */
  matchAllTags: boolean;
  /** Picked activity bands. */
  bands: ActivityBand[];
  /** Picked alert states (the group list only: broadcasts cannot target by alert). */
  alertStates: GroupAlertState[];
  /** Substring of the group name (the group list only). */
  name: string;
  /** Picked welcome-template coverages, e.g. missing and outdated for the gaps (the group list only). */
  welcomeCoverages: WelcomeCoverage[];
}

/** A filter that matches every group. */
export function emptyFilter(): GroupFilterModel {
  return { owners: "", stores: "", tagIds: [], matchAllTags: false, bands: [], alertStates: [], name: "", welcomeCoverages: [] };
}

/** Owner userids typed as `zhangsan, lisi` (commas, Chinese commas or spaces). */
export function parseUserids(text: string): string[] {
  return text
    .split(/[,，\s]+/)
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}

/** The filter as `ListGroupsRequest` fields. */
export function toListGroupsFilter(model: GroupFilterModel) {
  return {
    ownerUserids: parseUserids(model.owners),
    storeIds: parseStoreIds(model.stores),
    tagIds: [...model.tagIds],
    matchAllTags: model.tagIds.length > 1 && model.matchAllTags,
    activityBands: [...model.bands],
    alertStates: [...model.alertStates],
    nameQuery: model.name.trim(),
    welcomeCoverages: [...model.welcomeCoverages],
  };
}

/**
 * The filter as a `BroadcastTargetFilter`. Broadcasts cannot target by name, alert state or welcome coverage,
 * so those are dropped; the `ActivityBand` enums of group and messaging match value for value.
 */
export function toBroadcastFilter(model: GroupFilterModel) {
  return {
    tagIds: [...model.tagIds],
    matchAllTags: model.tagIds.length > 1 && model.matchAllTags,
    ownerUserids: parseUserids(model.owners),
    storeIds: parseStoreIds(model.stores),
    activityBands: model.bands.map((band) => band as number),
  };
}

/** Whether the filter constrains anything a broadcast can target by. */
export function constrainsBroadcast(model: GroupFilterModel): boolean {
  const filter = toBroadcastFilter(model);
  return filter.tagIds.length + filter.ownerUserids.length + filter.storeIds.length + filter.activityBands.length > 0;
}

/** The broadcast-relevant part of a filter as URL query parameters, for the composer to pick up. */
export function filterToQuery(model: GroupFilterModel): Record<string, string> {
  const query: Record<string, string> = {};
  const owners = parseUserids(model.owners);
  const stores = parseStoreIds(model.stores);
  if (owners.length) query.owners = owners.join(",");
  if (stores.length) query.stores = stores.join(",");
  if (model.tagIds.length) query.tags = model.tagIds.join(",");
  if (model.tagIds.length > 1 && model.matchAllTags) query.allTags = "1";
  if (model.bands.length) query.bands = model.bands.join(",");
  return query;
}

/** A filter read back from `filterToQuery`'s parameters; unknown or malformed values are dropped. */
export function filterFromQuery(query: Record<string, unknown>): GroupFilterModel {
  const text = (key: string) => (typeof query[key] === "string" ? (query[key] as string) : "");
  const numbers = (key: string) => text(key).split(",").filter((part) => /^\d+$/.test(part));
  return {
    ...emptyFilter(),
    owners: parseUserids(text("owners")).join(", "),
    stores: parseStoreIds(text("stores")).join(", "),
    tagIds: numbers("tags").map((part) => BigInt(part)),
    matchAllTags: text("allTags") === "1",
    bands: numbers("bands").map(Number).filter((band) => band >= 1 && band <= 5) as ActivityBand[],
  };
}
