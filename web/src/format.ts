// How the app writes amounts and bilingual texts: one place, so every page
// agrees (and the unit tests say how).

// money formats fen as yuan with two decimals: 105000 → "¥1050.00".
export function money(fen?: number | null): string {
  if (fen === undefined || fen === null) return ''
  const sign = fen < 0 ? '-' : ''
  const abs = Math.abs(fen)
  return `${sign}¥${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`
}

// text picks a {zh, en} text in the locale, falling back to the other.
export function text(t: { zh?: string; en?: string } | undefined, locale: string): string {
  if (!t) return ''
  return (locale === 'en' ? t.en || t.zh : t.zh || t.en) || ''
}
