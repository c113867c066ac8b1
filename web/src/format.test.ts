import { describe, expect, it } from 'vitest'
import { money, text } from './format'

describe('money', () => {
  it('writes fen as yuan with two decimals, in integers (no float rounding)', () => {
    expect(money(105000)).toBe('¥1050.00')
    expect(money(4500)).toBe('¥45.00')
    expect(money(7)).toBe('¥0.07')
    expect(money(0)).toBe('¥0.00')
    expect(money(-12345)).toBe('-¥123.45')
    expect(money(1_000_000_000_01)).toBe('¥1000000000.01')
  })
  it('writes nothing for no amount', () => {
    expect(money(undefined)).toBe('')
    expect(money(null)).toBe('')
  })
})

describe('text', () => {
  it('picks the locale, falling back to the other language', () => {
    expect(text({ zh: '部门负责人审批', en: 'Department head approval' }, 'zh-CN')).toBe('部门负责人审批')
    expect(text({ zh: '部门负责人审批', en: 'Department head approval' }, 'en')).toBe('Department head approval')
    expect(text({ zh: '仅中文' }, 'en')).toBe('仅中文')
    expect(text(undefined, 'en')).toBe('')
  })
})

describe('labels', () => {
  it('name event types and roles in the locale, unknown ones as they are', async () => {
    const { eventLabel, roleLabel } = await import('./events')
    expect(eventLabel('task.completed', 'zh-CN')).toBe('待办完成')
    expect(eventLabel('task.completed', 'en')).toBe('Task done')
    expect(eventLabel('stocktake.counted', 'zh-CN')).toBe('stocktake.counted')
    expect(roleLabel('dept_head', 'zh-CN')).toBe('部门负责人')
    expect(roleLabel('nobody', 'en')).toBe('nobody')
  })
})
