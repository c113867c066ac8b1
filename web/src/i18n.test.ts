import { describe, expect, it } from 'vitest'
import { i18n } from './i18n'

// Every label the app says in one language it says in the other.
function keys(o: unknown, prefix = ''): string[] {
  if (typeof o !== 'object' || o === null) return [prefix]
  return Object.entries(o).flatMap(([k, v]) => keys(v, prefix ? `${prefix}.${k}` : k))
}

describe('the messages', () => {
  it('have the same keys in zh-CN and en', () => {
    const zh = keys(i18n.global.getLocaleMessage('zh-CN')).sort()
    const en = keys(i18n.global.getLocaleMessage('en')).sort()
    expect(zh.filter((k) => !en.includes(k))).toEqual([])
    expect(en.filter((k) => !zh.includes(k))).toEqual([])
  })
})
