import { createRouter, createWebHistory } from 'vue-router'
import { who, loadSession } from './session'

// Pages are loaded when first shown, so the first page loads only itself.
export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/', redirect: '/inbox' },
    { path: '/login', name: 'login', component: () => import('./pages/LoginPage.vue'), meta: { public: true } },
    { path: '/inbox', name: 'inbox', component: () => import('./pages/InboxPage.vue') },
    { path: '/processes/:id', name: 'process', component: () => import('./pages/ProcessPage.vue') },
    { path: '/delegations', name: 'delegations', component: () => import('./pages/DelegationsPage.vue') },
    { path: '/audit', name: 'audit', component: () => import('./pages/AuditPage.vue') },
    { path: '/inventory', name: 'inventory', component: () => import('./pages/InventoryPage.vue') },
    { path: '/budget', name: 'budget', component: () => import('./pages/BudgetPage.vue') },
    { path: '/kpi', name: 'kpi', component: () => import('./pages/KPIPage.vue') },
    { path: '/mine', name: 'mine', component: () => import('./pages/MinePage.vue') },
    { path: '/new/procurement', name: 'new-procurement', component: () => import('./pages/NewProcurementPage.vue') },
    { path: '/new/trip', name: 'new-trip', component: () => import('./pages/NewTripPage.vue') },
    { path: '/new/event', name: 'new-event', component: () => import('./pages/NewEventPage.vue') },
    { path: '/new/inspection', name: 'new-inspection', component: () => import('./pages/NewInspectionPage.vue') },
    { path: '/new/issue', name: 'new-issue', component: () => import('./pages/NewIssuePage.vue') },
    { path: '/schedules', name: 'schedules', component: () => import('./pages/SchedulesPage.vue') },
    { path: '/preferences', name: 'preferences', component: () => import('./pages/PreferencesPage.vue') },
    { path: '/new/budget', name: 'new-budget', component: () => import('./pages/NewBudgetPage.vue') },
    { path: '/new/stocktake', name: 'new-stocktake', component: () => import('./pages/NewStocktakePage.vue') },
  ],
})

router.beforeEach(async (to) => {
  if (to.meta.public) return true
  if (!who.value && !(await loadSession())) return { name: 'login', query: { next: to.fullPath } }
  return true
})
