import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import InspectionWorkForm from './InspectionWorkForm.vue'
import { i18n, setLocale } from '../i18n'

// The inspection's work forms send what the workflow checks: every item of
// the pinned checklist once, a failure with its severity and note; a fix
// with what was done; a verification that passes, or fails saying why.
const checklist = {
  id: 'fire_safety_monthly',
  items: [
    { id: 'extinguishers', category: 'fire', text: { zh: '灭火器在位', en: 'Extinguishers in place' } },
    { id: 'exits', category: 'fire', text: { zh: '安全出口畅通', en: 'Exits clear' } },
    { id: 'access', category: 'security', text: { zh: '门禁正常', en: 'Access control works' } },
  ],
}
const finding = { id: 'IN-2026-000001-F1', text: { zh: '灭火器在位', en: 'Extinguishers in place' }, severity: 'high', note: '压力不足' }

function form(step: string) {
  return mount(InspectionWorkForm, {
    props: { step, checklist, finding: step === 'record' ? undefined : finding, busy: false },
    global: { plugins: [i18n, ElementPlus] },
  })
}

describe('InspectionWorkForm', () => {
  it('records every item, a failure with its severity and note', async () => {
    setLocale('zh-CN')
    const w = form('record')
    expect(w.findAll('[data-test^="item-"]').map((x) => x.find('.what').text())).toEqual(['1. 灭火器在位', '2. 安全出口畅通', '3. 门禁正常'])
    await w.find('[data-test="item-extinguishers"] input[value="fail"]').setValue(true)
    await w.find('[data-test="item-access"] input[value="na"]').setValue(true)
    expect(w.text()).toContain('不合格项：1 项')
    await w.find('[data-test="item-extinguishers"] [data-test="failure-note"]').setValue('两具压力不足')
    await w.find('[data-test="item-extinguishers"] [data-test="severity"] input[value="high"]').setValue(true)
    await w.find('form').trigger('submit')
    expect(w.emitted('complete')?.[0]?.[0]).toEqual({
      results: [
        { item: 'extinguishers', result: 'fail', severity: 'high', note: '两具压力不足' },
        { item: 'exits', result: 'pass' },
        { item: 'access', result: 'na' },
      ],
    })
  })

  it('reports a fix under its finding', async () => {
    const w = form('remediate')
    expect(w.find('[data-test="finding"]').text()).toContain('IN-2026-000001-F1 · 灭火器在位')
    await w.find('[data-test="fix-note"]').setValue('已更换两具灭火器')
    await w.find('form').trigger('submit')
    expect(w.emitted('complete')?.[0]?.[0]).toEqual({ note: '已更换两具灭火器' })
  })

  it('fails a verification saying what is still wrong', async () => {
    const w = form('verify')
    await w.find('[data-test="verdict"] input[type="radio"]:not(:checked)').setValue(true)
    await w.find('[data-test="verify-note"]').setValue('仍有一具压力不足')
    await w.find('form').trigger('submit')
    expect(w.emitted('complete')?.[0]?.[0]).toEqual({ passed: false, note: '仍有一具压力不足' })
  })
})
