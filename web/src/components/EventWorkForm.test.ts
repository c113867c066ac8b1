import { beforeAll, describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import EventWorkForm from './EventWorkForm.vue'
import { i18n, setLocale } from '../i18n'
import { api } from '../api/client'

// The event's work forms send what the workflow checks: the invited list
// confirmed by leaving it, an arrangement's cost in fen, the minutes with
// their summary, a review's outcome (a major error with its comment).
function form(step: string, minutes?: { minutes: string; summary: string }) {
  return mount(EventWorkForm, {
    props: { step, invited: ['wang.fang', 'liu.yang'], minutes, busy: false },
    global: { plugins: [i18n, ElementPlus] },
  })
}

describe('EventWorkForm', () => {
  // The people picker's people.
  beforeAll(() => {
    const items = [
      { id: 'wang.fang', name: '王芳', name_en: 'Wang Fang', department: 'MKT', roles: [] },
      { id: 'liu.yang', name: '刘洋', name_en: 'Liu Yang', department: 'MKT', roles: [] },
    ]
    vi.spyOn(api, 'GET').mockResolvedValue({ data: { items }, response: new Response() } as never)
  })

  it('confirms the invited attendees by leaving the list as it is', async () => {
    setLocale('zh-CN')
    const w = form('confirm_attendees')
    expect(w.text()).toContain('参会人员（2 人）')
    await w.find('form').trigger('submit')
    expect(w.emitted('complete')?.[0]?.[0]).toEqual({})
  })

  it('reports an arrangement with its cost in fen', async () => {
    const w = form('materials_MKT')
    expect(w.find('[data-test="complete"]').text()).toBe('安排完成')
    await w.find('[data-test="arranged-note"]').setValue('易拉宝两个')
    await w.find('[data-test="arranged-cost"] input').setValue('320.5')
    await w.find('form').trigger('submit')
    expect(w.emitted('complete')?.[0]?.[0]).toEqual({ note: '易拉宝两个', cost: 32050 })
  })

  it('submits the minutes and their summary', async () => {
    const w = form('minutes')
    await w.find('[data-test="minutes"]').setValue('一、年度回顾')
    await w.find('[data-test="summary"]').setValue('顺利举行')
    await w.find('form').trigger('submit')
    expect(w.emitted('complete')?.[0]?.[0]).toEqual({ minutes: '一、年度回顾', summary: '顺利举行' })
  })

  it('reviews the minutes it shows: a major error says why', async () => {
    const w = form('review_minutes', { minutes: '一、年度回顾', summary: '顺利举行' })
    expect(w.find('[data-test="under-review"]').text()).toContain('一、年度回顾')
    await w.find('[data-test="outcome"] input[value="major_error"]').setValue(true)
    await w.find('[data-test="review-comment"]').setValue('参会人数有误')
    await w.find('form').trigger('submit')
    expect(w.emitted('complete')?.[0]?.[0]).toEqual({ outcome: 'major_error', comment: '参会人数有误' })
  })

  it('confirms the publicity with no data', async () => {
    const w = form('confirm_publicity')
    await w.find('form').trigger('submit')
    expect(w.emitted('complete')?.[0]?.[0]).toEqual({})
  })
})
