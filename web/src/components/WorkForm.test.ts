import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import WorkForm from './WorkForm.vue'
import { i18n } from '../i18n'

// The work forms send the data the workflow checks: prices typed in yuan
// arrive in fen, a delivery leaves out what did not come, a survey answer
// carries its score.
function form(step: string) {
  return mount(WorkForm, {
    props: { step, items: [{ name: 'A4 paper', quantity: 2, unit_price: 4550 }, { name: '签字笔', quantity: 10, unit_price: 300 }], amount: 12100, busy: false },
    global: { plugins: [i18n, ElementPlus] },
  })
}

describe('WorkForm', () => {
  it('orders the request items at their prices, in fen', async () => {
    const w = form('record_po')
    await w.find('[data-test="supplier"]').setValue('得力办公')
    expect(w.find('[data-test="po-total"]').text()).toBe('¥121.00')
    await w.find('form').trigger('submit')
    expect(w.emitted('complete')?.[0]?.[0]).toEqual({
      supplier: '得力办公',
      lines: [
        { name: 'A4 paper', quantity: 2, unit_price: 4550 },
        { name: '签字笔', quantity: 10, unit_price: 300 },
      ],
    })
  })

  it("adds three quotes, the chosen supplier's at the order's total", async () => {
    const w = form('record_po')
    await w.find('[data-test="supplier"]').setValue('得力办公')
    await w.find('[data-test="quotes-on"] input').setValue(true)
    await w.find('[data-test="quote-1"] [data-test="quote-supplier"]').setValue('晨光文具')
    await w.find('[data-test="quote-1"] [data-test="quote-amount"] input').setValue('130')
    await w.find('[data-test="quote-2"] [data-test="quote-supplier"]').setValue('齐心办公')
    await w.find('[data-test="quote-2"] [data-test="quote-amount"] input').setValue('125.5')
    await w.find('form').trigger('submit')
    expect((w.emitted('complete')?.[0]?.[0] as { quotes: unknown }).quotes).toEqual([
      { supplier: '得力办公', amount: 12100 },
      { supplier: '晨光文具', amount: 13000 },
      { supplier: '齐心办公', amount: 12550 },
    ])
  })

  it('records the invoice amount in fen, prefilled with the amount', async () => {
    const w = form('record_invoice')
    await w.find('[data-test="invoice-number"]').setValue('INV-1')
    await w.find('form').trigger('submit')
    expect(w.emitted('complete')?.[0]?.[0]).toEqual({ number: 'INV-1', amount: 12100 })
  })

  it('answers a survey with its score', async () => {
    const w = form('respond')
    await w.findAll('.el-rate__item')[3].trigger('click')
    await w.find('form').trigger('submit')
    expect(w.emitted('complete')?.[0]?.[0]).toEqual({ score: 4 })
  })

  it('shows no form for a step it does not know', () => {
    expect(form('count').find('form').exists()).toBe(false)
  })
})
