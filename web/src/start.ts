import { ElMessage } from 'element-plus'
import { ref } from 'vue'
import { useRouter, type Router } from 'vue-router'
import { api, detail } from './api/client'
import type { components } from './api/schema'
import { i18n } from './i18n'

type StartPath = '/v1/procurements' | '/v1/trips' | '/v1/events' | '/v1/inspections' | '/v1/inventory/issues' | '/v1/inventory/stocktakes'

// submitStart starts a process from its form and opens it once the read
// models hold it (the 201's position); a refusal is shown and the form stays.
export async function submitStart(router: Router, path: StartPath, body: object): Promise<void> {
  const { t } = i18n.global
  // Each path takes its own request type; the form passes the one its path takes.
  const { data, error } = await api.POST(path as '/v1/trips', { body: body as components['schemas']['TripRequest'] })
  if (error || !data) {
    ElMessage.error({ message: t('process.refused', { detail: detail(error) }), customClass: 'refused' })
    return
  }
  ElMessage.success(t('start.submitted', { id: data.id }))
  await router.push({ name: 'process', params: { id: data.id ?? '' }, query: { pos: String(data.position ?? '') } })
}

// useStart is a start form's submission (submitStart): busy while it is
// sent; body gives the request at the moment the form is submitted.
export function useStart(path: StartPath, body: () => object) {
  const router = useRouter()
  const busy = ref(false)
  async function submit() {
    busy.value = true
    try {
      await submitStart(router, path, body())
    } finally {
      busy.value = false
    }
  }
  return { busy, submit }
}
