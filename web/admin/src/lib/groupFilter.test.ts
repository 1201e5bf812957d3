import { describe, expect, it } from "vitest";
import { ActivityBand, GroupAlertState, WelcomeCoverage } from "../gen/scrm/group/v1/group_pb";
import { constrainsBroadcast, emptyFilter, filterFromQuery, filterToQuery, toBroadcastFilter, toListGroupsFilter } from "./groupFilter";

const model = {
  ...emptyFilter(),
  owners: " zhangsan, lisi ",
  stores: "7，8 abc",
  tagIds: [3n],
  matchAllTags: true,
  bands: [ActivityBand.HIGH],
  alertStates: [GroupAlertState.CLEAR],
  name: " 会员 ",
  welcomeCoverages: [WelcomeCoverage.MISSING, WelcomeCoverage.OUTDATED],
};

describe("group filter", () => {
  it("becomes ListGroups fields, dropping malformed store ids and a lone tag's match-all", () => {
    expect(toListGroupsFilter(model)).toEqual({
      ownerUserids: ["zhangsan", "lisi"],
      storeIds: [7n, 8n],
      tagIds: [3n],
      matchAllTags: false,
      activityBands: [ActivityBand.HIGH],
      alertStates: [GroupAlertState.CLEAR],
      nameQuery: "会员",
      welcomeCoverages: [WelcomeCoverage.MISSING, WelcomeCoverage.OUTDATED],
    });
  });

  it("becomes a broadcast filter without name, alert state and welcome coverage", () => {
    expect(toBroadcastFilter(model)).toEqual({ tagIds: [3n], matchAllTags: false, ownerUserids: ["zhangsan", "lisi"], storeIds: [7n, 8n], activityBands: [5] });
    expect(constrainsBroadcast(model)).toBe(true);
    expect(constrainsBroadcast({ ...emptyFilter(), name: "会员", alertStates: [GroupAlertState.ALERTING] })).toBe(false);
    expect(constrainsBroadcast({ ...emptyFilter(), welcomeCoverages: [WelcomeCoverage.MISSING] })).toBe(false);
  });

  it("travels to the composer through the URL and back", () => {
    const both = { ...model, tagIds: [3n, 4n] };
    const query = filterToQuery(both);
    expect(query).toEqual({ owners: "zhangsan,lisi", stores: "7,8", tags: "3,4", allTags: "1", bands: "5" });
    const back = filterFromQuery(query);
    expect(toBroadcastFilter(back)).toEqual(toBroadcastFilter(both));
  });

  it("ignores malformed URL values", () => {
    const back = filterFromQuery({ tags: "1,x", bands: "9,2", owners: ["a"] });
    expect(back.tagIds).toEqual([1n]);
    expect(back.bands).toEqual([ActivityBand.DEAD]);
    expect(back.owners).toBe("");
  });
});
