import { afterEach, describe, expect, it, vi } from 'vitest'
import { api, detail } from './client'
import { setLocale } from '../i18n'

// The client echoes the CSRF cookie on unsafe requests only (api.Authenticate
// refuses a cookie-signed POST without it).
describe('the API client', () => {
  afterEach(() => {
    vi.unstubAllGlobals()
    document.cookie = 'houqin_csrf=; max-age=0'
  })

  async function sent(method: 'GET' | 'POST'): Promise<Request> {
    let got: Request | undefined
    const fetch = vi.fn(async (req: Request) => {
      got = req
      return new Response('{}', { status: 200, headers: { 'Content-Type': 'application/json' } })
    })
    vi.stubGlobal('fetch', fetch)
    document.cookie = 'houqin_csrf=abc123'
    if (method === 'GET') await api.GET('/v1/me', { fetch })
    else await api.POST('/auth/logout', { fetch })
    expect(got).toBeDefined()
    return got!
  }

  it('adds X-CSRF-Token from the cookie to a POST', async () => {
    expect((await sent('POST')).headers.get('X-CSRF-Token')).toBe('abc123')
  })
  it('leaves a GET without it', async () => {
    expect((await sent('GET')).headers.get('X-CSRF-Token')).toBeNull()
  })
  it("says the user's language on every request", async () => {
    setLocale('en')
    expect((await sent('GET')).headers.get('Accept-Language')).toBe('en')
    setLocale('zh-CN')
    expect((await sent('POST')).headers.get('Accept-Language')).toBe('zh-CN')
  })
})

describe('a refused request', () => {
  it('says what its code means in the user language, then the server detail', () => {
    const p = { code: 'EFORBIDDEN', detail: 'task: liu.yang is not an assignee' }
    setLocale('zh-CN')
    expect(detail(p)).toBe('无权操作 — task: liu.yang is not an assignee')
    setLocale('en')
    expect(detail(p)).toBe('Not allowed for you — task: liu.yang is not an assignee')
    setLocale('zh-CN')
  })
  it('keeps a detail whose code it does not know', () => {
    expect(detail({ code: 'ESOMETHING', detail: 'x' })).toBe('x')
    expect(detail({ title: 'Bad' })).toBe('Bad')
  })
})
