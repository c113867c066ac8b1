import { ref } from 'vue'
import { api } from './api/client'
import type { components } from './api/schema'

export type Identity = components['schemas']['Identity']

// who is the signed-in user; null before sign-in (or after sign-out).
export const who = ref<Identity | null>(null)

// loadSession asks the server who the session cookie is, if anyone.
export async function loadSession(): Promise<Identity | null> {
  const { data } = await api.GET('/v1/me')
  who.value = data ?? null
  return who.value
}

// signOut ends the session; signed in through an identity provider that
// ends sessions too, it answers where to go next (RP-initiated logout), and
// signOut returns that URL for the caller to leave for.
export async function signOut(): Promise<string> {
  const { data } = await api.POST('/auth/logout')
  who.value = null
  return (data as { logout_url?: string } | undefined)?.logout_url ?? ''
}

// watchSessionEnd handles a 401 from the API while signed in (the session
// expired, or was ended elsewhere): forget who, and let onEnded take the
// user to the login page.
export function watchSessionEnd(onEnded: () => void) {
  api.use({
    onResponse({ request, response }) {
      if (response.status === 401 && who.value && new URL(request.url).pathname.startsWith('/v1/')) {
        who.value = null
        onEnded()
      }
      return response
    },
  })
}
