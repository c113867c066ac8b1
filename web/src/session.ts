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

export async function signOut() {
  await api.POST('/auth/logout')
  who.value = null
}
