import { afterEach, describe, expect, it, vi } from 'vitest'
import { api } from './api/client'
import { signOut, watchSessionEnd, who } from './session'

// A session that ends while the app is open sends the user to sign in
// again; signing out of a provider that ends sessions too goes there.
describe('the session', () => {
  afterEach(() => vi.restoreAllMocks())

  it('ends on a 401 from the API while signed in, once', async () => {
    const ended = vi.fn()
    watchSessionEnd(ended)
    const fetch = vi.fn(async () => new Response('{}', { status: 401, headers: { 'Content-Type': 'application/problem+json' } }))
    who.value = { user_id: 'li.na', name: '李娜', roles: [] } as never
    await api.GET('/v1/inbox', { fetch })
    expect(ended).toHaveBeenCalledTimes(1)
    expect(who.value).toBeNull()
    await api.GET('/v1/inbox', { fetch }) // not signed in any more: nothing to end
    expect(ended).toHaveBeenCalledTimes(1)
  })

  it('returns where the provider signs out too', async () => {
    vi.spyOn(api, 'POST').mockResolvedValue({ data: { logout_url: 'https://idp.example/logout?client_id=houqin' }, response: new Response() } as never)
    who.value = { user_id: 'li.na' } as never
    expect(await signOut()).toBe('https://idp.example/logout?client_id=houqin')
    expect(who.value).toBeNull()
  })
})
