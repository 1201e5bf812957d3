// Pages of the admin. Later features add their pages here and a menu entry in Shell.vue.
import { createRouter, createWebHistory } from "vue-router";
import { session } from "./session";

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: "/login", name: "login", component: () => import("./views/LoginView.vue"), meta: { public: true } },
    { path: "/login/wecom", name: "wecom", component: () => import("./views/WecomCallbackView.vue"), meta: { public: true } },
    {
      path: "/",
      component: () => import("./views/ShellView.vue"),
      children: [
        { path: "", name: "overview", component: () => import("./views/OverviewView.vue") },
        { path: "org", name: "org", component: () => import("./views/OrgView.vue") },
        { path: "structure", name: "structure", component: () => import("./views/OrgStructureView.vue") },
        { path: "settings", name: "settings", component: () => import("./views/SettingsView.vue") },
        { path: "users", name: "users", component: () => import("./views/UsersView.vue") },
        { path: "tokens", name: "tokens", component: () => import("./views/TokensView.vue") },
        { path: "audit", name: "audit", component: () => import("./views/AuditView.vue") },
        { path: "groups", name: "groups", component: () => import("./views/GroupsView.vue") },
        { path: "groups/:id", name: "group", component: () => import("./views/GroupDetailView.vue") },
        { path: "alerts", name: "alerts", component: () => import("./views/AlertsView.vue") },
        { path: "alerts/rules", name: "alert-rules", component: () => import("./views/AlertRulesView.vue") },
        { path: "welcome", name: "welcome", component: () => import("./views/WelcomeRulesView.vue") },
        { path: "join-ways", name: "join-ways", component: () => import("./views/JoinWaysView.vue") },
        { path: "broadcasts", name: "broadcasts", component: () => import("./views/BroadcastsView.vue") },
        { path: "broadcasts/new", name: "broadcast-new", component: () => import("./views/BroadcastComposeView.vue") },
        { path: "broadcasts/:id(\\d+)", name: "broadcast", component: () => import("./views/BroadcastDetailView.vue") },
        { path: "customers", name: "customers", component: () => import("./views/customers/CustomersView.vue") },
        { path: "customers/import", name: "order-import", component: () => import("./views/customers/OrderImportView.vue") },
        { path: "customers/levels", name: "levels", component: () => import("./views/customers/LevelTiersView.vue") },
        { path: "customers/:externalUserid", name: "customer", component: () => import("./views/customers/CustomerView.vue") },
        { path: "quick-replies", name: "quick-replies", component: () => import("./views/QuickRepliesView.vue") },
      ],
    },
  ],
});

router.beforeEach(async (to) => {
  if (to.meta.public) return true;
  const me = await session.load();
  return me ? true : { name: "login", query: { next: to.fullPath } };
});
