import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import TripWorkForm from './TripWorkForm.vue'
import { api } from '../api/client'
import { i18n, setLocale } from '../i18n'

// The trip's work forms send what the workflow checks: a booking per leg
// (lodging only when asked for), a claim in fen with each hotel night's and
// per-diem's cap of its city shown, and a line above it asking why.
const request = {
  lodging: true,
  legs: [{ from: '上海', to: '北京', depart: '2027-01-11', return: '2027-01-12' }],
}
const days = [
  { date: '2027-01-11', city: '北京', hotel: 60000, per_diem: 15000 },
  { date: '2027-01-12', city: '北京', hotel: 60000, per_diem: 15000 },
]

function form(step: string, lodging = true) {
  return mount(TripWorkForm, {
    props: { processId: 'TR-2027-000001', step, request: { ...request, lodging }, busy: false, canNoClaim: true },
    global: { plugins: [i18n, ElementPlus] },
  })
}

describe('TripWorkForm', () => {
  afterEach(() => vi.restoreAllMocks())

  it('books a ticket and a hotel per leg, in fen', async () => {
    setLocale('zh-CN')
    const w = form('book')
    await w.find('[data-test="transport-0"] [data-test="reference"]').setValue('E12345')
    await w.find('[data-test="transport-0"] [data-test="amount"] input').setValue('553')
    await w.find('[data-test="lodging-0"] [data-test="reference"]').setValue('H-889')
    await w.find('[data-test="lodging-0"] [data-test="amount"] input').setValue('1200')
    expect(w.find('[data-test="booking-total"]').text()).toBe('¥1753.00')
    await w.find('form').trigger('submit')
    expect(w.emitted('complete')?.[0]?.[0]).toEqual({
      transport: [{ description: '上海→北京 2027-01-11', reference: 'E12345', amount: 55300 }],
      lodging: [{ description: '北京 2027-01-11–2027-01-12', reference: 'H-889', amount: 120000 }],
    })
  })

  it('books no hotel for a trip without lodging', async () => {
    const w = form('book', false)
    expect(w.find('[data-test="lodging-0"]').exists()).toBe(false)
    await w.find('form').trigger('submit')
    expect(w.emitted('complete')?.[0]?.[0]).not.toHaveProperty('lodging')
  })

  it('claims the per-diems at their caps and asks why for a line above one', async () => {
    setLocale('zh-CN')
    const get = vi.spyOn(api, 'GET').mockResolvedValue({ data: { trip: 'TR-2027-000001', days }, response: new Response() } as never)
    const w = form('claim')
    await flushPromises()
    expect(get).toHaveBeenCalledWith('/v1/trips/{id}/caps', { params: { path: { id: 'TR-2027-000001' } } })
    await w.find('[data-test="add-per-diems"]').trigger('click')
    expect(w.findAll('[data-test="cap"]').map((c) => c.text())).toEqual(['标准 ¥150.00（北京）', '标准 ¥150.00（北京）'])
    expect(w.find('[data-test="justification"]').exists()).toBe(false)
    await w.find('[data-test="claim-1"] [data-test="amount"] input').setValue('180')
    expect(w.find('[data-test="claim-1"] [data-test="cap"]').text()).toBe('标准 ¥150.00（北京） · 超标 ¥30.00，请说明原因')
    await w.find('[data-test="claim-1"] [data-test="justification"]').setValue('客户宴请')
    expect(w.find('[data-test="claim-total"]').text()).toBe('¥330.00')
    await w.find('form').trigger('submit')
    expect(w.emitted('complete')?.[0]?.[0]).toEqual({
      lines: [
        { category: 'per_diem', date: '2027-01-11', amount: 15000 },
        { category: 'per_diem', date: '2027-01-12', amount: 18000, justification: '客户宴请' },
      ],
    })
  })

  it('says nothing to claim by the task action', async () => {
    vi.spyOn(api, 'GET').mockResolvedValue({ data: { trip: 'TR-2027-000001', days }, response: new Response() } as never)
    const w = form('claim')
    await w.find('[data-test="no-claim"]').trigger('click')
    expect(w.emitted('noClaim')).toHaveLength(1)
    expect(w.emitted('complete')).toBeUndefined()
  })
})
