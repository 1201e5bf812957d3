// The API: grpc-web through connect-es for the services, REST under /api/auth for signing in.
// Every call sends the session cookie; state-changing calls echo the CSRF cookie in x-csrf-token.
import { createClient, ConnectError, Code, type Interceptor } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { IdentityService } from "../gen/scrm/identity/v1/identity_pb";
import { AnalyticsService } from "../gen/scrm/analytics/v1/analytics_pb";
import { CustomerService } from "../gen/scrm/customer/v1/customer_pb";
import { GroupService } from "../gen/scrm/group/v1/group_pb";
import { MessagingService } from "../gen/scrm/messaging/v1/messaging_pb";
import { RewardsService } from "../gen/scrm/rewards/v1/rewards_pb";
import { CampaignService } from "../gen/scrm/campaign/v1/campaign_pb";

/** Reads a cookie the page may see (the CSRF token; the session cookie is HttpOnly). */
export function readCookie(name: string): string {
  const pair = document.cookie.split(";").map((part) => part.trim()).find((part) => part.startsWith(`${name}=`));
  return pair ? decodeURIComponent(pair.slice(name.length + 1)) : "";
}

const csrf: Interceptor = (next) => async (request) => {
  const token = readCookie("scrm_csrf");
  if (token) request.header.set("x-csrf-token", token);
  return next(request);
};

/** Called when the server says the session is gone, to send the user back to the sign-in page. */
let onSignedOut: () => void = () => {};
export function whenSignedOut(callback: () => void) {
  onSignedOut = callback;
}

const signedOut: Interceptor = (next) => async (request) => {
  try {
    return await next(request);
  } catch (error) {
    if (error instanceof ConnectError && error.code === Code.Unauthenticated) onSignedOut();
    throw error;
  }
};

const transport = createGrpcWebTransport({
  baseUrl: window.location.origin,
  interceptors: [csrf, signedOut],
});

/** The identity service: org, sync, users, tokens, audit. */
export const identity = createClient(IdentityService, transport);
/** The analytics service: overview numbers. */
export const analytics = createClient(AnalyticsService, transport);
/** The group service: groups, tags, activity, alerts. */
export const groups = createClient(GroupService, transport);
/** The messaging service: broadcasts. */
export const messaging = createClient(MessagingService, transport);

/** The campaign service: fission campaigns, participants, KOC profiles. */
export const campaign = createClient(CampaignService, transport);

/** The customer service: customers, notes, orders, levels, quick replies. */
export const customer = createClient(CustomerService, transport);

/** The rewards service: reward definitions (the coupon picker of quick replies), grants, points, coupons. */
export const rewards = createClient(RewardsService, transport);

/** The signed-in caller, as GET /api/auth/me answers. */
export interface Me {
  displayName: string;
  role: string;
  storeIds: number[];
  permissions: string[];
  user: { id: number; username: string; mustChangePassword: boolean } | null;
}

/** An error the API answered, in plain language with the field at fault. */
export class ApiProblem extends Error {
  constructor(
    message: string,
    public code: string,
    public field?: string,
  ) {
    super(message);
  }
}

async function rest<T>(method: string, path: string, body?: unknown, contentType = "application/json"): Promise<T> {
  const response = await fetch(path, {
    method,
    credentials: "include",
    headers: { "content-type": contentType, "x-csrf-token": readCookie("scrm_csrf") },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiProblem(data.message ?? response.statusText, data.code ?? "unknown", data.field);
  return data as T;
}

/** Signs in with a username and password, or with WeCom's code and state. */
export function login(credential: { username?: string; password?: string; code?: string; state?: string }) {
  return rest<{ csrfToken: string }>("POST", "/api/auth/login", credential);
}

/** Signs out of this browser. */
export function logout() {
  return rest<object>("POST", "/api/auth/logout", {});
}

/** Who is signed in; rejects when no one is. */
export function me() {
  return rest<Me>("GET", "/api/auth/me");
}

/** Where to send the browser for WeCom sign-in. */
export function wecomLoginUrl(redirect: string) {
  return rest<{ url: string; state: string }>("GET", `/api/auth/wecom-url?redirect=${encodeURIComponent(redirect)}`);
}

/** One refused row of an order import. */
export interface ImportRowProblem {
  rowNumber: number;
  orderNo: string;
  field: string;
  reason: string;
}

/** The report of `POST /api/crm/orders/import`. */
export interface OrderImportReport {
  received: number;
  accepted: number;
  created: number;
  updated: number;
  unchanged: number;
  rejected: number;
  unmatched: number;
  errors: ImportRowProblem[];
  errorsTruncated: boolean;
  dryRun: boolean;
}

/** Imports an order CSV (see `/api/openapi.json` for its columns); `dryRun` only checks it. */
export function importOrders(csv: string, source: string, dryRun: boolean) {
  const query = `source=${encodeURIComponent(source)}&dryRun=${dryRun}`;
  return rest<OrderImportReport>("POST", `/api/crm/orders/import?${query}`, csv, "text/csv");
}
