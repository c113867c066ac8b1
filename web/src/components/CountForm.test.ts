import { afterEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import CountForm from './CountForm.vue'
import { api } from '../api/client'
import { i18n, setLocale } from '../i18n'

// A scheduled stocktake's count lists the items its workflow names, by
// their names, and sends each once.
describe('CountForm', () => {
  afterEach(() => vi.restoreAllMocks())

  it('counts the items of the schedule, each once', async () => {
    setLocale('zh-CN')
    const get = vi.spyOn(api, 'GET').mockImplementation((async (path: string) =>
      path === '/v1/inventory'
        ? { data: { items: [{ item: 'A4 paper', names: { zh: 'A4 打印纸', en: 'A4 paper' }, unit: '箱' }, { item: 'toner', unit: '个' }] } }
        : { data: { stocktake: 'ST-2026-000001', items: ['A4 paper', 'toner'] } }) as never)
    const w = mount(CountForm, { props: { processId: 'ST-2026-000001', busy: false }, global: { plugins: [i18n, ElementPlus] } })
    await flushPromises()
    expect(get).toHaveBeenCalledWith('/v1/inventory/stocktakes/{id}/items', { params: { path: { id: 'ST-2026-000001' } } })
    expect(w.findAll('.name').map((n) => n.text())).toEqual(['A4 打印纸', 'toner'])
    await w.find('[data-test="count-A4 paper"] input').setValue('18')
    await w.find('form').trigger('submit')
    expect(w.emitted('complete')?.[0]?.[0]).toEqual({ counts: [{ item: 'A4 paper', counted: 18 }, { item: 'toner', counted: 0 }] })
  })
})
