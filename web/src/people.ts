import { ref } from 'vue'
import { api } from './api/client'
import type { components } from './api/schema'
import { text } from './format'

export type Person = components['schemas']['Person']

// The organisation's members, loaded once per session for pickers and for
// showing names instead of user IDs.
export const people = ref<Person[]>([])
let loading: Promise<void> | null = null

export function loadPeople(): Promise<void> {
  loading ??= api.GET('/v1/people').then(({ data }) => {
    people.value = data?.items ?? []
  })
  return loading
}

// nameOf shows a user by name in the locale, the ID if unknown.
export function nameOf(id: string | undefined, locale: string): string {
  if (!id) return ''
  if (id === 'system') return locale === 'en' ? 'houqin' : '系统' // the workflow itself
  const p = people.value.find((x) => x.id === id)
  if (!p) return id
  return locale === 'en' ? p.name_en || p.name : p.name
}

// departments lists the organisation's departments, from its people: ID
// and name in the locale.
export function departments(locale: string): { id: string; name: string }[] {
  const seen = new Map<string, string>()
  for (const p of people.value) seen.set(p.department, text(p.department_name, locale) || p.department)
  return [...seen].map(([id, name]) => ({ id, name }))
}
