// The web app in a real browser: Debian's Chromium driven by
// playwright-core against a running `houqin dev` (cmd/houqin's
// TestWebAppInBrowser starts it and a procurement waiting for liu.yang).
//
//   node e2e/smoke.mjs URL SCREENSHOT_DIR
//
// Any request to a host other than URL's fails the run. Exits 1 naming the
// first check that failed.
import { chromium, selectors } from 'playwright-core'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'

const [base, shots] = process.argv.slice(2)
if (!base || !shots) {
  console.error('usage: node e2e/smoke.mjs URL SCREENSHOT_DIR')
  process.exit(2)
}
mkdirSync(shots, { recursive: true })
selectors.setTestIdAttribute('data-test') // the app marks what tests use with data-test
const origin = new URL(base).origin
let processID = '' // submitted in the browser by wang.fang
const otherID = process.env.HOUQIN_OTHER_ID || ''
const withdrawID = process.env.HOUQIN_WITHDRAW_ID || ''
const returnID = process.env.HOUQIN_RETURN_ID || ''
const tripID = process.env.HOUQIN_TRIP_ID || ''
const inspectionID = process.env.HOUQIN_INSPECTION_ID || ''
const eventID = process.env.HOUQIN_EVENT_ID || ''
const revokeID = process.env.HOUQIN_REVOKE_ID || ''
const projectorID = process.env.HOUQIN_PROJECTOR_ID || ''

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
})
const foreign = []
let failed = false
let page
function check(ok, what) {
  if (ok) {
    console.log('ok  ', what)
  } else {
    console.log('FAIL', what)
    failed = true
  }
}

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' })
  await context.route('**/*', (route) => {
    const url = route.request().url()
    if (url.startsWith(origin) || url.startsWith('data:')) return route.continue()
    foreign.push(url)
    return route.abort()
  })
  page = await context.newPage()
  const errors = []
  page.on('pageerror', (e) => errors.push(String(e)))

  // Not signed in: the app sends you to the login page, in Chinese.
  const t0 = Date.now()
  await page.goto(base + '/inbox')
  await page.waitForURL(/\/login/)
  await page.getByTestId('login-liu.yang').waitFor()
  console.log(`info login page usable after ${Date.now() - t0} ms`)
  check((await page.getByRole('heading', { level: 1 }).textContent()) === '选择登录身份', 'the login page speaks Chinese')
  check(await page.getByText('刘洋').isVisible(), 'the organisation is listed by Chinese name')
  await page.screenshot({ path: join(shots, 'login.png'), fullPage: true })

  // zhang.wei, the logistics manager, reads the KPIs: no survey answered yet.
  await page.getByTestId('login-zhang.wei').click()
  await page.waitForURL(/\/inbox$/)
  await page.getByTestId('nav-kpi').click()
  await page.getByTestId('kpi-satisfaction').waitFor()
  check((await page.getByTestId('kpi-status-satisfaction').textContent()) === '无数据', 'satisfaction has no data before any survey')
  // He asks for a cleanliness check of the 3rd floor: security reviews it,
  // the preview says, by name.
  await page.getByTestId('nav-mine').click()
  await page.getByTestId('new-inspection').click()
  await page.getByTestId('checklist-items').waitFor()
  check((await page.getByTestId('checklist-items').textContent())?.includes('地面清洁无杂物'), 'the inspection form lists the checklist\'s items')
  await page.getByTestId('location').fill('总部 3 楼')
  await page.getByTestId('preview').getByText('安保部审核检查安排').waitFor()
  check((await page.getByTestId('preview').textContent())?.includes('吴敏'), 'the inspection route preview names security\'s 吴敏')
  await page.screenshot({ path: join(shots, 'new-inspection.png'), fullPage: true })
  await page.getByTestId('submit').click()
  await page.waitForURL(/\/processes\/IN-/)
  await page.getByTestId('status').waitFor()
  check((await page.getByTestId('status').textContent()) === '审批中', `an inspection started in the form: ${new URL(page.url()).pathname.split('/').pop()}`)
  await page.getByTestId('sign-out').click()
  await page.waitForURL(/\/login/)

  // wang.fang asks for printing paper in the form; the route preview beside
  // it names her department head as she types.
  await page.getByTestId('login-wang.fang').click()
  await page.waitForURL(/\/inbox$/)
  await page.getByTestId('nav-mine').click()
  await page.getByTestId('new-procurement').click()
  await page.getByTestId('procurement-form').waitFor()
  await page.getByTestId('reason').fill('浏览器里提交的打印纸')
  const date = page.locator('.el-date-editor input')
  await date.fill('2026-12-20')
  await date.press('Enter')
  await page.getByTestId('item-name').fill('A4 paper')
  const numbers = page.locator('[data-test="line-0"] .el-input-number input')
  await numbers.nth(0).fill('2')
  await numbers.nth(0).press('Tab')
  await page.getByTestId('item-unit').fill('箱')
  await numbers.nth(1).fill('45')
  await numbers.nth(1).press('Tab')
  check((await page.getByTestId('total').textContent()) === '¥90.00', 'the form totals the items in ¥')
  await page.getByTestId('preview').getByText('部门负责人审批').waitFor()
  check((await page.getByTestId('preview').textContent())?.includes('刘洋'), 'the route preview names the department head, by name')
  await page.screenshot({ path: join(shots, 'new-procurement.png'), fullPage: true })
  await page.getByTestId('submit').click()
  await page.waitForURL(/\/processes\/PR-/)
  processID = new URL(page.url()).pathname.split('/').pop()
  await page.getByTestId('status').waitFor()
  check((await page.getByTestId('status').textContent()) === '审批中', `${processID} submitted, in approval`)
  // She nudges (催办) her department head, named in the page.
  await page.getByTestId('waiting').getByText('刘洋').waitFor()
  await page.locator('[data-test^="remind-"]').first().click()
  await page.getByText('已催办').waitFor()
  check(true, 'the requester reminded 刘洋')

  // And a business trip to Shanghai, its route previewed too.
  await page.getByTestId('nav-mine').click()
  await page.getByTestId('new-trip').click()
  await page.getByTestId('trip-form').waitFor()
  await page.getByTestId('purpose').fill('上海客户拜访')
  await page.getByTestId('leg-from').fill('北京')
  await page.getByTestId('leg-to').fill('上海')
  for (const [cls, day] of [['.leg-depart', '2026-12-21'], ['.leg-return', '2026-12-23']]) {
    const input = page.locator(cls + ' input')
    await input.fill(day)
    await input.press('Enter')
  }
  const cost = page.getByTestId('estimated').locator('input') // el-input-number keeps data-test on its wrapper
  await cost.fill('3000')
  await cost.press('Tab')
  await page.getByTestId('preview').locator('.el-step').first().waitFor()
  await page.screenshot({ path: join(shots, 'new-trip.png'), fullPage: true })
  await page.getByTestId('submit').click()
  await page.waitForURL(/\/processes\/TR-/)
  await page.getByTestId('status').waitFor()
  check((await page.getByTestId('status').textContent()) === '审批中', `a trip submitted in the form: ${new URL(page.url()).pathname.split('/').pop()}`)

  // And a training for her department, at no cost.
  await page.getByTestId('nav-mine').click()
  await page.getByTestId('new-event').click()
  await page.getByTestId('event-form').waitFor()
  await page.getByTestId('event-title').fill('新员工培训')
  const when = page.locator('.event-period input')
  await when.nth(0).fill('2026-12-28 09:00:00')
  await when.nth(1).fill('2026-12-28 17:00:00')
  await when.nth(1).press('Enter')
  await page.getByTestId('event-title').click() // close the picker
  await page.getByTestId('event-departments').click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: '市场部' }).click()
  await page.keyboard.press('Escape') // close the multiple select
  await page.getByTestId('event-venue').fill('3楼会议室')
  await page.getByTestId('preview').locator('.el-step').first().waitFor()
  await page.screenshot({ path: join(shots, 'new-event.png'), fullPage: true })
  await page.getByTestId('submit').click()
  await page.waitForURL(/\/processes\/EV-/)
  await page.getByTestId('status').waitFor()
  check((await page.getByTestId('status').textContent()) === '审批中', `an event submitted in the form: ${new URL(page.url()).pathname.split('/').pop()}`)

  // In 我的申请 she withdraws (撤回) another request still in approval.
  await page.getByTestId('nav-mine').click()
  await page.getByTestId('withdraw-' + withdrawID).click()
  const withdrawn = page.locator('[data-test="mine"] .el-table__row', { hasText: withdrawID })
  await withdrawn.getByText('已撤回').waitFor()
  check(await withdrawn.getByTestId('withdraw-' + withdrawID).count() === 0, `${withdrawID} withdrawn from 我的申请`)
  await page.screenshot({ path: join(shots, 'mine.png'), fullPage: true })
  await page.getByTestId('sign-out').click()
  await page.waitForURL(/\/login/)

  // liu.yang signs in and finds wang.fang's requisition in his inbox.
  await page.getByTestId('login-liu.yang').click()
  await page.waitForURL(/\/inbox$/)
  await page.getByTestId('who').waitFor()
  check((await page.getByTestId('who').textContent()) === '刘洋', 'signed in as 刘洋')
  // The bell says what waits for him: her requisition, which it opens on his task.
  await page.getByTestId('bell').click()
  const note = page.getByTestId('notification-' + processID).first()
  await note.waitFor()
  check(Number((await page.getByTestId('bell-count').locator('sup').textContent())?.trim()) >= 1 && (await note.textContent())?.includes('浏览器里提交的打印纸'),
    `the bell counts the unread and names ${processID}: ${(await note.textContent())?.trim()}`)
  await page.waitForFunction(() => [...document.querySelectorAll('.el-popover')].some((p) => getComputedStyle(p).opacity === '1'))
  await page.screenshot({ path: join(shots, 'bell.png'), fullPage: true })
  await note.click()
  await page.waitForURL(new RegExp('/processes/' + processID + '\\?task='))
  await page.getByTestId('task').waitFor()
  await page.getByTestId('nav-inbox').click()
  const row = page.locator('[data-test="inbox"] .el-table__row', { hasText: processID })
  console.log('info submitted in the browser: ' + processID)
  await row.first().waitFor({ timeout: 10000 })
  check((await row.count()) === 1 && (await row.first().textContent())?.includes('部门负责人审批'),
    `the inbox lists ${processID} at its step, in Chinese`)
  await page.screenshot({ path: join(shots, 'inbox-zh.png'), fullPage: true })

  // He opens it: the request, its items and amount, and the actions his task allows.
  await row.first().getByRole('link').click()
  await page.waitForURL(new RegExp('/processes/' + processID))
  await page.getByTestId('task').waitFor()
  check((await page.getByTestId('process').textContent())?.includes('¥90.00'), 'the process page shows the amount in ¥')
  check(await page.getByText('A4 paper').isVisible(), 'the process page lists the items')
  // The route as it runs, why each step applies or not; the budget check.
  await page.getByTestId('route').getByText('部门负责人审批').click()
  await page.getByTestId('route').getByText('规则：dept_head(requester)').waitFor()
  const route = (await page.getByTestId('route').textContent()) ?? ''
  check(route.includes('进行中') && route.includes('刘洋'), 'the route shows the step in progress, who and by which rule')
  check((await page.getByTestId('budget-check').textContent())?.includes('预算内'), 'the budget check: within the plan')
  await page.screenshot({ path: join(shots, 'task.png'), fullPage: true })

  // A rejection without a reason is refused, with the message in Chinese.
  await page.getByTestId('reject').click()
  await page.locator('.refused').waitFor()
  check((await page.locator('.refused').textContent())?.includes('驳回须填写理由'), 'a rejection without a reason is refused, saying why')

  // He approves with a comment: the task is done, the history shows it.
  await page.getByTestId('comment').fill('同意，请尽快采购') // el-input passes data-test to its textarea
  await page.getByTestId('approve').click()
  await page.getByTestId('task').waitFor({ state: 'detached' })
  check((await page.getByTestId('timeline').textContent())?.includes('待办完成 · 刘洋'), 'the approval is on the history')
  await page.screenshot({ path: join(shots, 'approved.png'), fullPage: true })

  // Away next week, he delegates to 张伟, sees it listed, and ends it.
  await page.getByTestId('nav-delegations').click()
  await page.getByTestId('delegation-form').waitFor()
  await page.getByTestId('delegate').click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: '张伟' }).click()
  await page.getByTestId('delegation-reason').fill('出差')
  await page.getByTestId('delegation-create').click()
  const delegation = page.locator('[data-test="delegations"] .el-table__row', { hasText: 'zhang.wei' })
  await delegation.first().waitFor()
  check((await delegation.count()) === 1 && (await delegation.first().textContent())?.includes('出差'), 'a delegation to 张伟 for a week, listed')
  await page.screenshot({ path: join(shots, 'delegations.png'), fullPage: true })
  await delegation.first().getByRole('button').click()
  await delegation.first().getByRole('button').waitFor({ state: 'detached' })
  check(true, 'the delegation ended early')

  // Back in the inbox, only the other requisition waits.
  await page.goto(base + '/inbox')
  await page.locator('[data-test="inbox"] .el-table__row', { hasText: otherID }).first().waitFor()
  check((await row.count()) === 0, `${processID} left the inbox once approved`)
  // The server searches: by its number, the other requisition alone; by
  // a word in no title, nothing.
  await page.getByTestId('filter-search').fill('no such words')
  await page.locator('[data-test="inbox"] .el-table__empty-text').waitFor()
  await page.getByTestId('filter-search').fill(otherID.slice(-3))
  await page.locator('[data-test="inbox"] .el-table__row', { hasText: otherID }).first().waitFor()
  check((await page.locator('[data-test="inbox"] .el-table__row').count()) === 1 &&
    (await page.getByTestId('tab-pending').textContent())?.includes('(1)'), `the inbox searched by number: ${otherID} alone, counted`)
  await page.getByTestId('filter-search').fill('')
  await page.locator('[data-test="inbox"] .el-table__row', { hasText: returnID }).first().waitFor()
  // By step: his department head approvals, every row at that step.
  const filtered = page.waitForResponse((r) => r.url().includes('/v1/inbox') && r.url().includes('step=dept_approval'))
  await page.getByTestId('filter-step').click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: '部门负责人审批' }).click()
  await filtered
  await page.waitForFunction(() => document.querySelectorAll('[data-test="inbox"] .el-table__row').length > 0)
  const stepRows = await page.locator('[data-test="inbox"] .el-table__row').allTextContents()
  check(stepRows.length > 0 && stepRows.every((r) => r.includes('部门负责人审批')), `the inbox filtered by step: ${stepRows.length} at 部门负责人审批`)
  await page.goto(base + '/inbox')
  await page.locator('[data-test="inbox"] .el-table__row', { hasText: returnID }).first().waitFor()
  await page.getByTestId('tab-handled').click()
  await page.locator('[data-test="inbox"] .el-table__row', { hasText: processID }).first().waitFor()
  // Counted with the trip, the training and two requisitions he approved before the browser came.
  check((await page.getByTestId('tab-handled').textContent())?.includes('已办 (5)'), `${processID} under 已办, counted`)
  await page.getByTestId('tab-pending').click()

  // English by the switch, remembered across a reload.
  await page.getByTestId('language').click()
  await page.getByRole('heading', { name: 'Inbox' }).waitFor()
  await page.reload()
  await page.getByRole('heading', { name: 'Inbox' }).waitFor()
  const other = page.locator('[data-test="inbox"] .el-table__row', { hasText: otherID })
  check((await other.first().textContent())?.includes('Department head approval'), 'English after the switch and a reload, step names too')
  await page.screenshot({ path: join(shots, 'inbox-en.png'), fullPage: true })

  // At phone width the inbox still shows its process.
  await page.setViewportSize({ width: 390, height: 844 })
  check(await other.first().isVisible(), 'the inbox at phone width')
  await page.screenshot({ path: join(shots, 'inbox-phone.png'), fullPage: true })

  // Back to Chinese for the next people.
  await page.setViewportSize({ width: 1280, height: 800 })
  await page.getByTestId('language').click()
  await page.getByRole('heading', { name: '待办' }).waitFor()

  // He hands the other requisition over (转交) to 张伟, who will find it.
  await other.first().getByRole('link').click()
  await page.getByTestId('task-actions').waitFor()
  await page.getByTestId('transfer-to').click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: '张伟' }).click()
  await page.getByTestId('more-comment').fill('请张总代为审批')
  await page.getByTestId('transfer').click()
  await page.getByTestId('task').waitFor({ state: 'detached' })
  await page.getByTestId('nav-inbox').click()
  await page.getByRole('heading', { name: '待办' }).waitFor()
  await page.locator('[data-test="inbox"] .el-table__empty-text, [data-test="inbox"] .el-table__row').first().waitFor()
  check((await page.locator('[data-test="inbox"] .el-table__row', { hasText: otherID }).count()) === 0, `${otherID} transferred to 张伟, out of 刘洋's inbox`)

  // He returns (退回) a third one to wang.fang, saying why.
  await page.locator('[data-test="inbox"] .el-table__row', { hasText: returnID }).first().getByRole('link').click()
  await page.getByTestId('task-actions').waitFor()
  await page.getByTestId('more-comment').fill('请补充用途')
  await page.getByTestId('return').click()
  await page.getByTestId('task').waitFor({ state: 'detached' })
  check(true, `${returnID} returned to wang.fang`)
  await page.getByTestId('sign-out').click()
  await page.waitForURL(/\/login/)

  // li.na does the work: the order, the delivery, the invoice, the stock-in,
  // each step's form on the process page as soon as the last is done.
  await page.getByTestId('login-li.na').click()
  await page.waitForURL(/\/inbox$/)
  await page.locator('[data-test="inbox"] .el-table__row', { hasText: processID }).first().getByRole('link').click()
  await page.getByTestId('work-record_po').waitFor()
  // Without a supplier the server refuses, saying so in Chinese.
  await page.getByTestId('complete').click()
  await page.locator('.refused').getByText('supplier：必填（供应商）').waitFor()
  check(true, `the server's refusal in Chinese: ${(await page.locator('.refused').first().textContent())?.trim()}`)
  await page.getByTestId('supplier').fill('得力办公')
  check((await page.getByTestId('po-total').textContent()) === '¥90.00', 'the order is prefilled from the request')
  await page.screenshot({ path: join(shots, 'record-po.png'), fullPage: true })
  await page.getByTestId('complete').click()
  await page.getByTestId('work-receive_goods').waitFor()
  await page.getByTestId('complete').click()
  await page.getByTestId('work-record_invoice').waitFor()
  await page.getByTestId('invoice-number').fill('INV-2026-0001')
  await page.getByTestId('complete').click()
  await page.getByTestId('work-stock_in').waitFor()
  await page.getByTestId('complete').click()
  await page.getByTestId('status').getByText('已完成').waitFor()
  check(true, `${processID} ordered, received, invoiced and stocked in by li.na`)
  // Then wang.fang's trip: the train and the hotel, booked.
  await page.getByTestId('nav-inbox').click()
  await page.locator('[data-test="inbox"] .el-table__row', { hasText: tripID }).first().getByRole('link').click()
  await page.getByTestId('work-book').waitFor()
  for (const [part, ref, amount] of [['transport-0', 'G2', '553'], ['lodging-0', 'H-889', '1200']]) {
    await page.getByTestId(part).getByTestId('reference').fill(ref)
    const input = page.getByTestId(part).getByTestId('amount').locator('input')
    await input.fill(amount)
    await input.press('Tab')
  }
  check((await page.getByTestId('booking-total').textContent()) === '¥1753.00', 'the booking totals the train and the hotel')
  await page.screenshot({ path: join(shots, 'book.png'), fullPage: true })
  await page.getByTestId('complete').click()
  await page.getByTestId('work-book').waitFor({ state: 'detached' })
  check(true, `${tripID} booked by li.na`)
  // Booked: the confirmation letter (出差安排确认函) is among the documents.
  await page.getByTestId('doc-confirmation').waitFor()
  const letter = await page.request.get(new URL((await page.getByTestId('xlsx-confirmation').getAttribute('href')) ?? '', base).href)
  check(letter.ok() && (letter.headers()['content-type'] ?? '').includes('spreadsheetml'), `the confirmation letter downloads (${letter.status()})`)
  check((await page.getByTestId('request').textContent())?.includes('上海→北京'), 'the trip request shows its legs')
  // And the fire check: the extinguishers fail, high, saying why.
  await page.getByTestId('nav-inbox').click()
  await page.locator('[data-test="inbox"] .el-table__row', { hasText: inspectionID }).first().getByRole('link').click()
  await page.getByTestId('work-record').waitFor()
  const extinguishers = page.getByTestId('item-extinguishers')
  await extinguishers.getByText('不合格').click()
  await extinguishers.getByTestId('severity').getByText('高').click()
  await extinguishers.getByTestId('failure-note').fill('两具灭火器压力不足')
  await page.getByText('不合格项：1 项').waitFor()
  await page.screenshot({ path: join(shots, 'record-inspection.png'), fullPage: true })
  await page.getByTestId('complete').click()
  await page.getByTestId('work-record').waitFor({ state: 'detached' })
  check(true, `${inspectionID} recorded by li.na, one finding`)
  // And the training's room, with what it cost.
  await page.getByTestId('nav-inbox').click()
  await page.locator('[data-test="inbox"] .el-table__row', { hasText: eventID }).first().getByRole('link').click()
  await page.getByTestId('work-venue').waitFor()
  await page.getByTestId('arranged-note').fill('已订 5 楼大会议室')
  const roomCost = page.getByTestId('arranged-cost').locator('input')
  await roomCost.fill('800')
  await roomCost.press('Tab')
  await page.screenshot({ path: join(shots, 'arrange-venue.png'), fullPage: true })
  await page.getByTestId('complete').click()
  await page.getByTestId('work-venue').waitFor({ state: 'detached' })
  check(true, `${eventID}'s venue arranged by li.na`)
  await page.getByTestId('nav-inventory').click()
  const paper = page.locator('[data-test="inventory"] .el-table__row', { hasText: 'A4 打印纸' })
  await paper.first().waitFor()
  check((await paper.first().locator('td').nth(1).textContent())?.trim().startsWith('2'), 'the 2 boxes stocked in are on hand in 库存')
  await page.screenshot({ path: join(shots, 'inventory.png'), fullPage: true })
  // She counts the stock: a box of paper short.
  await page.getByTestId('nav-mine').click()
  await page.getByTestId('new-stocktake').click()
  const paperCount = page.locator('[data-test="count-A4 paper"] input')
  await paperCount.waitFor()
  await paperCount.fill('1')
  await paperCount.press('Tab')
  await page.getByText('1 项有差异').waitFor()
  await page.screenshot({ path: join(shots, 'stocktake.png'), fullPage: true })
  await page.getByTestId('submit').click()
  await page.waitForURL(/\/processes\/ST-/)
  await page.getByTestId('request').getByText('账面库存 2 → 实盘数量 1').waitFor()
  check(true, `a stocktake submitted in the form: ${new URL(page.url()).pathname.split('/').pop()}, the paper 2 → 1`)
  await page.getByTestId('sign-out').click()
  await page.waitForURL(/\/login/)

  // wang.fang resubmits the returned request, and answers the
  // satisfaction survey the finished one sent her.
  await page.getByTestId('login-wang.fang').click()
  await page.waitForURL(/\/inbox$/)
  await page.locator('[data-test="inbox"] .el-table__row', { hasText: returnID }).first().getByRole('link').click()
  await page.getByTestId('resubmit').click()
  await page.getByTestId('resubmit').waitFor({ state: 'detached' })
  check((await page.getByTestId('status').textContent()) === '审批中', `${returnID} resubmitted, in approval again`)
  // She revokes (撤销) an approved requisition before it is ordered.
  await page.goto(base + '/processes/' + revokeID)
  await page.getByTestId('end-revoke').waitFor()
  await page.getByTestId('end-reason').fill('预算调整，暂不采购')
  await page.getByTestId('revoke').click()
  await page.getByTestId('status').getByText('已取消').waitFor()
  check(await page.getByTestId('end-revoke').count() === 0, `${revokeID} revoked by its requester, cancelled`)
  // She claims her trip: a per-diem a day at Beijing's cap, the first
  // day's above it, which asks why.
  await page.getByTestId('nav-inbox').click()
  const claimRow = page.locator('[data-test="inbox"] .el-table__row', { hasText: tripID })
  await claimRow.first().waitFor({ timeout: 15000 })
  await claimRow.first().getByRole('link').click()
  await page.getByTestId('work-claim').waitFor()
  await page.getByTestId('add-per-diems').click()
  check((await page.getByTestId('claim-2').getByTestId('cap').textContent())?.includes('标准 ¥150.00（北京）'), 'each per-diem shows the cap of its city')
  const first = page.getByTestId('claim-0').getByTestId('amount').locator('input')
  await first.fill('200')
  await first.press('Tab')
  await page.getByTestId('claim-0').getByTestId('justification').fill('当天两地往返')
  check((await page.getByTestId('claim-total').textContent()) === '¥500.00', 'the claim totals its lines')
  await page.screenshot({ path: join(shots, 'claim.png'), fullPage: true })
  await page.getByTestId('complete').click()
  await page.getByTestId('work-claim').waitFor({ state: 'detached' })
  check(true, `${tripID} claimed by wang.fang, one line above its cap`)
  await page.getByTestId('nav-inbox').click()
  await page.getByRole('heading', { name: '待办' }).waitFor()
  const survey = page.locator('[data-test="inbox"] .el-table__row', { hasText: 'SV-' + processID })
  await survey.first().waitFor({ timeout: 15000 })
  await survey.first().getByRole('link').click()
  await page.getByTestId('work-respond').waitFor()
  await page.getByTestId('score').locator('.el-rate__item').nth(4).click()
  await page.getByTestId('survey-comment').fill('到货很快')
  await page.screenshot({ path: join(shots, 'survey.png'), fullPage: true })
  await page.getByTestId('complete').click()
  await page.getByTestId('work-respond').waitFor({ state: 'detached' })
  check(true, 'wang.fang answered the survey: 5 stars')
  // No email for her, and quiet nights: 通知设置 under her name.
  await page.getByTestId('who').click()
  await page.getByTestId('preferences-form').waitFor()
  await page.getByTestId('channel-email').click()
  await page.getByTestId('quiet-on').click()
  await page.getByTestId('save-preferences').click()
  await page.getByText('已保存').waitFor()
  await page.screenshot({ path: join(shots, 'preferences.png'), fullPage: true })
  check(true, 'wang.fang turned email off and set quiet hours')
  // She asks the warehouse for a box of paper.
  await page.getByTestId('nav-mine').click()
  await page.getByTestId('new-issue').click()
  await page.getByTestId('issue-form').waitFor()
  await page.getByTestId('issue-reason').fill('会议用纸')
  await page.getByTestId('issue-item').click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: 'A4 打印纸' }).click()
  await page.getByTestId('submit').click()
  await page.waitForURL(/\/processes\/IS-/)
  await page.getByTestId('request').getByText('A4 paper × 1').waitFor()
  check(true, `an issue of a box of paper asked for in the form: ${new URL(page.url()).pathname.split('/').pop()}`)
  await page.getByTestId('sign-out').click()
  await page.waitForURL(/\/login/)

  // zhang.wei finds the requisition transferred to him, and sees the
  // survey on the dashboard: satisfaction 100 %, met; the service quality
  // report downloads.
  await page.getByTestId('login-zhang.wei').click()
  await page.waitForURL(/\/inbox$/)
  await page.locator('[data-test="inbox"] .el-table__row', { hasText: otherID }).first().waitFor()
  check(true, `${otherID} is in 张伟's inbox after the transfer`)
  await page.getByTestId('nav-kpi').click()
  let value = ''
  for (let i = 0; i < 20 && value !== '100.0 %'; i++) {
    if (i > 0) {
      await page.waitForTimeout(500) // the KPI read model follows the answer
      await page.reload()
    }
    await page.getByTestId('kpi-satisfaction').waitFor()
    value = (await page.getByTestId('kpi-value-satisfaction').textContent())?.trim() ?? ''
  }
  check(value === '100.0 %' && (await page.getByTestId('kpi-status-satisfaction').textContent()) === '达标',
    `satisfaction after the survey: ${value}, met`)
  await page.locator('[data-test="kpi-satisfaction"] svg').first().waitFor()
  // Side by side per department, and the management plan to download.
  await page.getByTestId('department-chart').locator('svg').first().waitFor()
  await page.screenshot({ path: join(shots, 'kpi.png'), fullPage: true })
  const plan = await page.request.get(new URL((await page.getByTestId('plan-xlsx').getAttribute('href')) ?? '', base).href)
  check(plan.ok() && (plan.headers()['content-type'] ?? '').includes('spreadsheetml'), `the KPIs by department charted; 后勤管理计划书 downloads (${plan.status()})`)
  // As of June, before any of this happened: no data.
  const asOfInput = page.locator('.kpi-as-of input')
  await asOfInput.fill('2026-06-01 00:00:00')
  await asOfInput.press('Enter')
  await page.getByTestId('kpi-as-of').getByText('2026/06/01').waitFor()
  check((await page.getByTestId('kpi-status-satisfaction').textContent()) === '无数据', 'the KPIs as of June 2026: no survey yet')
  const xlsx = await page.request.get(new URL((await page.getByTestId('report-xlsx').getAttribute('href')) ?? '', base).href)
  check(xlsx.ok() && (xlsx.headers()['content-type'] ?? '').includes('spreadsheetml'), `the service quality report downloads (${xlsx.status()})`)


  // The budget: marketing's office supplies line has spent the invoice.
  await page.getByTestId('nav-budget').click()
  const line = page.locator('[data-test="budget-lines"] .el-table__row', { hasText: '市场部' })
  await line.first().waitFor()
  check((await line.first().textContent())?.includes('办公用品') && (await line.first().textContent())?.includes('¥90.00'),
    'the budget line of 市场部 办公用品 shows the ¥90.00 spent')
  await page.locator('[data-test="budget-lines"]').locator('xpath=..').locator('svg').first().waitFor().catch(() => {})
  const purchasePlan = await page.request.get(new URL((await page.getByTestId('purchase-plan-xlsx').getAttribute('href')) ?? '', base).href)
  check(purchasePlan.ok() && (purchasePlan.headers()['content-type'] ?? '').includes('spreadsheetml'), `物资采购计划 downloads (${purchasePlan.status()})`)
  await page.screenshot({ path: join(shots, 'budget.png'), fullPage: true })
  // He drafts next year's budget: one line, sent for approval.
  await page.getByTestId('new-budget').click()
  await page.getByTestId('budget-form').waitFor()
  const nextYear = page.getByTestId('budget-year').locator('input')
  await nextYear.fill(String(new Date().getFullYear() + 1))
  await nextYear.press('Tab')
  await page.getByTestId('budget-department').click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: '市场部' }).click()
  const amount = page.getByTestId('budget-amount').locator('input')
  await amount.fill('50000')
  await amount.press('Tab')
  check((await page.getByTestId('budget-total').textContent()) === '¥50000.00', 'the budget draft totals its lines')
  await page.screenshot({ path: join(shots, 'new-budget.png'), fullPage: true })
  await page.getByTestId('submit').click()
  await page.waitForURL(/\/processes\/BU-/)
  await page.getByTestId('status').waitFor()
  check((await page.getByTestId('status').textContent()) === '审批中', `next year's budget drafted: ${new URL(page.url()).pathname.split('/').pop()}`)
  // And a monthly fire check of the 5th floor, which he pauses.
  await page.getByTestId('nav-schedules').click()
  await page.getByTestId('inspection-schedule-form').waitFor()
  await page.getByTestId('schedule-name').fill('hq-5f-fire')
  await page.getByTestId('schedule-location').fill('总部 5 楼')
  await page.getByTestId('schedule-inspector').click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: 'li.na' }).click()
  await page.getByTestId('create-inspection-schedule').click()
  await page.getByTestId('toggle-hq-5f-fire').waitFor()
  await page.getByTestId('toggle-hq-5f-fire').click()
  const scheduled = page.locator('[data-test="inspection-schedules"] .el-table__row', { hasText: 'hq-5f-fire' })
  await scheduled.getByText('已暂停').waitFor()
  check((await scheduled.textContent())?.includes('0 1 1 * *'), 'the schedule says when it runs: 0 1 1 * * (the 1st, 09:00 in China)')
  await page.screenshot({ path: join(shots, 'schedules.png'), fullPage: true })
  check(true, 'a monthly inspection scheduled and paused on 定期计划')

  // chen.jing, countersigning the projector for finance, sends it back to
  // the department head's step (退回至「部门负责人审批」), saying why.
  await page.getByTestId('sign-out').click()
  await page.waitForURL(/\/login/)
  await page.getByTestId('login-chen.jing').click()
  await page.waitForURL(/\/inbox$/)
  await page.locator('[data-test="inbox"] .el-table__row', { hasText: projectorID }).first().getByRole('link').click()
  await page.getByTestId('task-actions').waitFor()
  await page.getByTestId('return-to').click()
  await page.locator('.el-select-dropdown__item:visible', { hasText: '退回至「部门负责人审批」' }).click()
  await page.getByTestId('more-comment').fill('请部门确认型号')
  await page.screenshot({ path: join(shots, 'return-to-step.png'), fullPage: true })
  await page.getByTestId('return').click()
  await page.getByTestId('task').waitFor({ state: 'detached' })
  check(true, `${projectorID} returned to the department head's step by chen.jing`)

  // huang.xin, the auditor, reads the process and its trail: no action
  // button anywhere, the chains intact, the trail downloadable.
  await page.getByTestId('sign-out').click()
  await page.waitForURL(/\/login/)
  await page.getByTestId('login-huang.xin').click()
  await page.waitForURL(/\/inbox$/)
  await page.goto(base + '/processes/' + processID)
  await page.getByTestId('timeline').waitFor()
  const buttons = await page.locator('[data-test="approve"], [data-test="reject"], [data-test="complete"], [data-test="task"]').count()
  check(buttons === 0, 'the auditor sees no action button on the process')
  await page.getByTestId('nav-audit').click()
  await page.getByTestId('verify').click()
  await page.getByTestId('verify-result').waitFor()
  check((await page.getByTestId('verify-result').textContent())?.includes('完整'), 'every hash chain verifies intact')
  await page.getByTestId('audit-process').fill(processID)
  await page.getByTestId('audit-read').click()
  await page.getByTestId('trail-chain').waitFor()
  check((await page.getByTestId('trail-chain').textContent())?.includes('完整') && (await page.locator('[data-test="trail"] .el-table__row').count()) > 10,
    `the audit trail of ${processID}: chain intact, every event`)
  // As it stood a minute from now: completed, nothing open.
  const soon = new Date(Date.now() + 60_000).toLocaleString('sv-SE', { timeZone: 'Asia/Shanghai' }) // YYYY-MM-DD HH:mm:ss
  await page.locator('.asof .el-date-editor input').fill(soon)
  await page.locator('.asof .el-date-editor input').press('Enter')
  await page.getByTestId('read-as-of').click()
  await page.getByTestId('as-of-state').waitFor()
  check((await page.getByTestId('as-of-state').textContent())?.includes('已完成'), `the state as of ${soon}: completed`)
  await page.screenshot({ path: join(shots, 'audit.png'), fullPage: true })
  const csv = await page.request.get(new URL((await page.getByTestId('trail-csv').getAttribute('href')) ?? '', base).href)
  check(csv.ok() && (await csv.text()).includes('procurement.requisition_submitted'), `the trail downloads as CSV (${csv.status()})`)

  // Signing out ends the session: the inbox sends you to the login page again.
  await page.getByTestId('sign-out').click()
  await page.waitForURL(/\/login/)
  await page.goto(base + '/inbox')
  await page.waitForURL(/\/login/)
  check(true, 'signed out')

  // By keyboard alone: Tab to a person on the login page (the focus
  // visible), Enter signs in.
  await page.getByTestId('login-admin').waitFor() // the people are listed
  let focused = ''
  for (let i = 0; i < 40 && !focused.startsWith('login-'); i++) {
    await page.keyboard.press('Tab')
    focused = await page.evaluate(() => document.activeElement?.getAttribute('data-test') ?? '')
  }
  const outline = await page.evaluate(() => (document.activeElement ? getComputedStyle(document.activeElement).outlineStyle : 'none'))
  check(focused.startsWith('login-') && outline !== 'none', `a person is reached by Tab, the focus visible (${focused}, outline ${outline})`)
  await page.keyboard.press('Enter')
  await page.waitForURL(/\/inbox$/)
  check(true, 'signed in by keyboard')

  check(errors.length === 0, `no script errors (${errors.join('; ')})`)
  check(foreign.length === 0, `no request left ${origin} (${foreign.join(', ')})`)
} catch (e) {
  console.log('FAIL', e instanceof Error ? e.message : String(e))
  failed = true
  await page?.screenshot({ path: join(shots, 'failure.png'), fullPage: true }).catch(() => {})
} finally {
  await browser.close()
}
process.exit(failed ? 1 : 0)
