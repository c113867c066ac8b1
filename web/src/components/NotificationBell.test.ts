import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import { createRouter, createMemoryHistory } from 'vue-router'
import NotificationBell from './NotificationBell.vue'
import { api } from '../api/client'
import { i18n, setLocale } from '../i18n'

// The bell counts the unread and says each notification in the user's
// language; opening one marks it read and goes to its task.
const items = [
  { id: 'e1/liu.yang', kind: 'task', event_type: 'task.opened', process_id: 'PR-2026-000001', task_id: 'PR-2026-000001.dept_approval.1',
    actor: 'wang.fang', at: '2026-12-06T02:00:00Z', read: false, title: 'Q1 打印纸', requester: 'wang.fang', amount: 105000,
    process_kind: 'procurement', step: 'dept_approval', step_name: { zh: '部门负责人审批', en: 'Department head approval' } },
  { id: 'e2/liu.yang', kind: 'outcome', event_type: 'procurement.approved', process_id: 'PR-2026-000002', actor: 'chen.jing',
    at: '2026-12-06T01:00:00Z', read: true, title: '投影仪', requester: 'liu.yang', amount: 0, process_kind: 'procurement' },
]

describe('NotificationBell', () => {
  afterEach(() => vi.restoreAllMocks())

  it('counts, says and opens notifications', async () => {
    setLocale('zh-CN')
    vi.spyOn(api, 'GET').mockResolvedValue({ data: { items, unread: 1 }, response: new Response() } as never)
    const post = vi.spyOn(api, 'POST').mockResolvedValue({ data: { unread: 0 }, response: new Response() } as never)
    const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/', component: { template: '<div/>' } },
      { path: '/processes/:id', name: 'process', component: { template: '<div/>' } }] })
    await router.push('/')
    const w = mount(NotificationBell, { global: { plugins: [i18n, ElementPlus, router] }, attachTo: document.body })
    await flushPromises()
    expect(w.find('[data-test="bell-count"] sup').text()).toBe('1')
    const links = document.querySelectorAll('[data-test^="notification-"]')
    expect([...links].map((a) => a.textContent)).toEqual(['待办：Q1 打印纸 · 部门负责人审批', '已通过：投影仪'])
    ;(links[0] as HTMLElement).click()
    await flushPromises()
    expect(post).toHaveBeenCalledWith('/v1/notifications/read', { body: { ids: ['e1/liu.yang'] } })
    expect(router.currentRoute.value.fullPath).toBe('/processes/PR-2026-000001?task=PR-2026-000001.dept_approval.1')
    w.unmount()
  })
})
