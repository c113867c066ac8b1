import createClient, { type Middleware } from 'openapi-fetch'
import type { paths } from './schema'
import { i18n } from '../i18n'

// The typed client of houqin's API, generated from api/openapi.json
// (npm run gen): a route or a field the spec does not have is a type error.
export const api = createClient<paths>({ baseUrl: globalThis.location?.origin ?? '' }) // this server: the API and the app share an origin

// A request signed in by the session cookie that changes something echoes
// the CSRF cookie in X-CSRF-Token (api.Authenticate).
const csrf: Middleware = {
  onRequest({ request }) {
    if (!['GET', 'HEAD', 'OPTIONS'].includes(request.method)) {
      const token = document.cookie
        .split('; ')
        .find((c) => c.startsWith('houqin_csrf='))
        ?.slice('houqin_csrf='.length)
      if (token) request.headers.set('X-CSRF-Token', token)
    }
    return request
  },
}
// Every request says the user's language (Accept-Language), so that a
// refusal's problem detail comes back in it (api.Problems).
const language: Middleware = {
  onRequest({ request }) {
    request.headers.set('Accept-Language', i18n.global.locale.value)
    return request
  },
}
api.use(csrf, language)

// Problem is the RFC 9457 body of every refused request.
export interface Problem {
  code?: string
  title?: string
  detail?: string
  status?: number
}

// detail returns what to tell the user about a refused request: what its
// stable code means, in the user's language, then the server's detail
// (which names the field, in English).
export function detail(p: unknown): string {
  const pr = p as Problem | undefined
  const what = pr?.detail || pr?.title || String(p)
  const key = 'problems.' + (pr?.code ?? '')
  return pr?.code && i18n.global.te(key) ? `${i18n.global.t(key)} — ${what}` : what
}
