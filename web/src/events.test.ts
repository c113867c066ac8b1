import { describe, expect, it } from 'vitest'
import { eventLabel } from './events'

// A history entry reads as words: a type's own label, else what its ending
// says for any kind, else the type itself (the auditor's exact word).
describe('eventLabel', () => {
  it('says a labelled type in the chosen language', () => {
    expect(eventLabel('trip.booked', 'zh-CN')).toBe('已预订交通住宿')
    expect(eventLabel('trip.booked', 'en')).toBe('Travel booked')
  })
  it('says a common ending for any kind', () => {
    expect(eventLabel('trip.budget_checked', 'zh-CN')).toBe('预算校验')
    expect(eventLabel('stocktake.approved', 'en')).toBe('Approved')
  })
  it('leaves an unknown ending as it is', () => {
    expect(eventLabel('stocktake.adjusted', 'zh-CN')).toBe('stocktake.adjusted')
  })
})
